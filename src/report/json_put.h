/* Building a JSON document with json-c, for the renderers (check's and
 * diff's): each helper returns 0 or -ENOMEM and never leaks the value it
 * was handed. */
#ifndef MA_REPORT_JSON_PUT_H
#define MA_REPORT_JSON_PUT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/attr.h"

struct json_object;
struct strbuf;

/* val under key; NULL is JSON null. On failure val is released. */
int json_put(struct json_object *obj, const char *key, struct json_object *val) MA_MUST_CHECK;
/* val from a json-c constructor: NULL is its ENOMEM. */
int json_put_new(struct json_object *obj, const char *key, struct json_object *val) MA_MUST_CHECK;
/* A string, or null for NULL. */
int json_put_str(struct json_object *obj, const char *key, const char *s) MA_MUST_CHECK;
int json_put_int(struct json_object *obj, const char *key, int64_t n) MA_MUST_CHECK;
int json_put_bool(struct json_object *obj, const char *key, bool b) MA_MUST_CHECK;
/* The document, pretty-printed (slashes unescaped), and a newline. */
int json_to_strbuf(struct json_object *root, struct strbuf *out) MA_MUST_CHECK;

#endif
