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

int json_put_str(struct json_object *obj, const char *key, const char *s)
{
	return s ? json_put_new(obj, key, json_object_new_string(s)) : json_put(obj, key, NULL);
}

int json_put_int(struct json_object *obj, const char *key, int64_t n)
{
	return json_put_new(obj, key, json_object_new_int64(n));
}

int json_put_bool(struct json_object *obj, const char *key, bool b)
{
	return json_put_new(obj, key, json_object_new_boolean(b));
}

int json_to_strbuf(struct json_object *root, struct strbuf *out)
{
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = text ? strbuf_addstr(out, text) : -ENOMEM;

	return err ? err : strbuf_addch(out, '\n');
}
