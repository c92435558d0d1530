/* Reading fields of the gateway's JSON answers, a default standing in for
 * a field that is absent or null (pure). */
#ifndef FTCTL_FIELDS_H
#define FTCTL_FIELDS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The field as a string (numbers too, as JSON writes them); o may be NULL. */
const char *ftctl_jstr(struct json_object *o, const char *key, const char *def);
/* Whether the field is there and not null. */
bool ftctl_jhas(struct json_object *o, const char *key);
int64_t ftctl_jint(struct json_object *o, const char *key, int64_t def);

#endif
