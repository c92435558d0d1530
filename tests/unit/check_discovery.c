/* What GET /v1/runtimes and /v1/limits say (gateway/discovery.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf/settings.h"
#include "gateway/discovery.h"

#define LEN(s) (sizeof(s) - 1)

START_TEST(java_version_from_release)
{
	char v[32];
	static const char release[] = "IMPLEMENTOR=\"Debian\"\nJAVA_RUNTIME_VERSION=\"17.0.15+6\"\n"
				      "JAVA_VERSION=\"17.0.15\"\nMODULES=\"java.base\"\n";
	gw_java_version_from_release(release, LEN(release), v, sizeof(v));
	ck_assert_str_eq(v, "17.0.15");
	/* Last line without a newline, no quotes. */
	gw_java_version_from_release("A=1\nJAVA_VERSION=21", LEN("A=1\nJAVA_VERSION=21"), v,
				     sizeof(v));
	ck_assert_str_eq(v, "21");
	/* None, or not a value we would show. */
	gw_java_version_from_release("JAVA_RUNTIME_VERSION=\"1\"\n", 25, v, sizeof(v));
	ck_assert_str_eq(v, "");
	gw_java_version_from_release("JAVA_VERSION=\"a\"b\"\n", 20, v, sizeof(v));
	ck_assert_str_eq(v, "");
	char small[4];
	gw_java_version_from_release(release, LEN(release), small, sizeof(small));
	ck_assert_str_eq(small, "");
	gw_java_version_from_release("", 0, v, sizeof(v));
	ck_assert_str_eq(v, "");
}
END_TEST

START_TEST(limits_are_the_configured_ones)
{
	struct ft_config cfg;
	ft_config_defaults(&cfg);
	cfg.limits.run_wall_ms = 4321;
	struct json_object *o = gw_limits_json(&cfg.limits);
	struct json_object *lims, *t, *v;
	ck_assert(json_object_object_get_ex(o, "limits", &lims));
	ck_assert(json_object_object_get_ex(lims, "time_ms", &t));
	ck_assert(json_object_object_get_ex(t, "max", &v));
	ck_assert_int_eq(json_object_get_int(v), 4321);
	ck_assert(json_object_object_get_ex(t, "default", &v));
	ck_assert_int_eq(json_object_get_int(v), 4321);
	ck_assert(json_object_object_get_ex(lims, "memory_mb", &t));
	ck_assert(json_object_object_get_ex(t, "min", &v));
	ck_assert_int_eq(json_object_get_int(v), 64);
	ck_assert(json_object_object_get_ex(o, "max_files", &v));
	ck_assert_int_eq(json_object_get_int(v), cfg.limits.max_files);
	json_object_put(o);
}
END_TEST

START_TEST(runtimes_name_java_and_its_flags)
{
	struct json_object *o = gw_runtimes_json("17.0.15"), *all, *java, *v;
	ck_assert(json_object_object_get_ex(o, "runtimes", &all));
	ck_assert_uint_eq(json_object_array_length(all), 1);
	java = json_object_array_get_idx(all, 0);
	ck_assert(json_object_object_get_ex(java, "version", &v));
	ck_assert_str_eq(json_object_get_string(v), "17.0.15");
	ck_assert(json_object_object_get_ex(java, "compiler_flags", &v));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "-proc:none");
	json_object_put(o);
	/* An unknown version is null, not "". */
	o = gw_runtimes_json("");
	java = json_object_array_get_idx(json_object_object_get(o, "runtimes"), 0);
	ck_assert(json_object_object_get_ex(java, "version", &v));
	ck_assert_ptr_null(v);
	json_object_put(o);
	/* The document it serves is the YAML one. */
	ck_assert_uint_gt(gw_openapi_yaml_len, 1000);
	ck_assert(memcmp(gw_openapi_yaml, "openapi: 3", 10) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("discovery");
	TCase *tc = tcase_create("discovery");
	tcase_add_test(tc, java_version_from_release);
	tcase_add_test(tc, limits_are_the_configured_ones);
	tcase_add_test(tc, runtimes_name_java_and_its_flags);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
