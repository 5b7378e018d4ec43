/* Building a JSON document with json-c, for the renderers (check's and
 * diff's): each helper returns 0 or -ENOMEM and never leaks the value it
 * was handed. */
#ifndef MA_REPORT_JSON_PUT_H
#define MA_REPORT_JSON_PUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/attr.h"

struct json_object;
struct strbuf;

/* val under key; NULL is JSON null. On failure val is released. */
int json_put(struct json_object *obj, const char *key, struct json_object *val) MA_MUST_CHECK;
/* val from a json-c constructor: NULL is its ENOMEM. */
int json_put_new(struct json_object *obj, const char *key, struct json_object *val) MA_MUST_CHECK;
int json_put_int(struct json_object *obj, const char *key, int64_t n) MA_MUST_CHECK;

/* One key of an object and its value, made when the field is: a table of
 * them puts an object's keys in order (json_put_fields). A NULL val is
 * JSON null when null says so, else the ENOMEM of the constructor. */
struct json_field {
	const char *key;
	struct json_object *val;
	bool null;
};

/* A string (NULL: null), an integer, a boolean, null, or val as it is (an
 * object or array built before; NULL: its ENOMEM). */
struct json_field jf_str(const char *key, const char *s);
struct json_field jf_int(const char *key, int64_t n);
struct json_field jf_bool(const char *key, bool b);
struct json_field jf_null(const char *key);
struct json_field jf_val(const char *key, struct json_object *val);

/* Put f[0..n) under obj in order. 0 or -ENOMEM (also for obj NULL, a
 * constructor's); every value is taken over: put, or released once a
 * field failed. */
int json_put_fields(struct json_object *obj, const struct json_field *f, size_t n) MA_MUST_CHECK;
/* A new object of f[0..n) (their values taken over likewise), or NULL on
 * ENOMEM. */
struct json_object *json_new_fields(const struct json_field *f, size_t n);

/* val appended to array arr. 0, or -ENOMEM (arr or val NULL: their
 * constructor's; or the append failed) with val released. */
int json_push(struct json_object *arr, struct json_object *val) MA_MUST_CHECK;

/* The document, pretty-printed (slashes unescaped), and a newline. */
int json_to_strbuf(struct json_object *root, struct strbuf *out) MA_MUST_CHECK;

#endif
