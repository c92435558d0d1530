#include "client/fields.h"

const char *ftctl_jstr(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return json_object_get_string(v);
	return def;
}

bool ftctl_jhas(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && v;
}

int64_t ftctl_jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && v)
		return json_object_get_int64(v);
	return def;
}
