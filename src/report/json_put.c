#include "report/json_put.h"

#include <errno.h>
#include <json-c/json.h>

#include "util/strbuf.h"

int json_put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int json_put_new(struct json_object *obj, const char *key, struct json_object *val)
{
	return val ? json_put(obj, key, val) : -ENOMEM;
}

int json_put_int(struct json_object *obj, const char *key, int64_t n)
{
	return json_put_new(obj, key, json_object_new_int64(n));
}

struct json_field jf_str(const char *key, const char *s)
{
	return (struct json_field){ key, s ? json_object_new_string(s) : NULL, !s };
}

struct json_field jf_int(const char *key, int64_t n)
{
	return (struct json_field){ key, json_object_new_int64(n), false };
}

struct json_field jf_bool(const char *key, bool b)
{
	return (struct json_field){ key, json_object_new_boolean(b), false };
}

struct json_field jf_null(const char *key)
{
	return (struct json_field){ key, NULL, true };
}

struct json_field jf_val(const char *key, struct json_object *val)
{
	return (struct json_field){ key, val, false };
}

int json_put_fields(struct json_object *obj, const struct json_field *f, size_t n)
{
	int err = obj ? 0 : -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		if (!err && !f[i].val && !f[i].null)
			err = -ENOMEM;
		if (err)
			json_object_put(f[i].val);
		else
			err = json_put(obj, f[i].key, f[i].val);
	}
	return err;
}

struct json_object *json_new_fields(const struct json_field *f, size_t n)
{
	struct json_object *o = json_object_new_object();

	if (json_put_fields(o, f, n) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int json_push(struct json_object *arr, struct json_object *val)
{
	if (!arr || !val || json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int json_to_strbuf(struct json_object *root, struct strbuf *out)
{
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = text ? strbuf_addstr(out, text) : -ENOMEM;

	return err ? err : strbuf_addch(out, '\n');
}
