/* Callbacks' pure parts: the host allowlist (lib/hostlist.c), which URLs
 * may be called, the back-off and the signature (gateway/callback.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/callback.h"
#include "lib/hostlist.h"

START_TEST(host_lists_are_checked)
{
	char why[256];
	ck_assert_int_eq(ft_host_list_check("", why, sizeof(why)), 0);
	ck_assert_int_eq(ft_host_list_check(" hooks.example.com, 10.0.0.7:8080 *.corp.example "
					    "[::1]:9000 [fd00::1]",
					    why, sizeof(why)),
			 0);
	static const char *const bad[] = { "host:0",	"host:65536", "host:",	 "ho/st",
					   "http://x",	"[::1",	      "*.[::1]", ".example",
					   "example.",	"a:b:c",      "[]",	 "h:12x",
					   "*.x:123456" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ft_host_list_check(bad[i], why, sizeof(why)) < 0, "%s", bad[i]);
		ck_assert_msg(strstr(why, bad[i]) != NULL, "%s: %s", bad[i], why);
	}
	/* The first bad entry is named, after good ones. */
	ck_assert_int_eq(ft_host_list_check("ok.example bad/entry", why, sizeof(why)), -1);
	ck_assert_ptr_nonnull(strstr(why, "'bad/entry'"));
}
END_TEST

START_TEST(hosts_match_as_written)
{
	const char *list = "hooks.example.com 10.0.0.7:8080 *.corp.example:443 [::1]:9000";
	ck_assert(ft_host_list_allows(list, "hooks.example.com", 443));
	ck_assert(ft_host_list_allows(list, "HOOKS.Example.COM", 80));
	ck_assert(!ft_host_list_allows(list, "evil-hooks.example.com", 443));
	ck_assert(!ft_host_list_allows(list, "hooks.example.com.evil", 443));
	ck_assert(ft_host_list_allows(list, "10.0.0.7", 8080));
	ck_assert(!ft_host_list_allows(list, "10.0.0.7", 8081));
	ck_assert(!ft_host_list_allows(list, "10.0.0.70", 8080));
	/* A wildcard is any host under the domain, not the domain. */
	ck_assert(ft_host_list_allows(list, "a.corp.example", 443));
	ck_assert(ft_host_list_allows(list, "a.b.corp.example", 443));
	ck_assert(!ft_host_list_allows(list, "corp.example", 443));
	ck_assert(!ft_host_list_allows(list, "xcorp.example", 443));
	ck_assert(!ft_host_list_allows(list, "a.corp.example", 80));
	ck_assert(ft_host_list_allows(list, "[::1]", 9000));
	ck_assert(!ft_host_list_allows(list, "[::1]", 9001));
	ck_assert(!ft_host_list_allows(list, "", 80));
	ck_assert(!ft_host_list_allows("", "hooks.example.com", 443));
}
END_TEST

static int url(const char *list, const char *u, const char *why_has)
{
	char why[512] = "";
	int rc = gw_callback_url_check(list, u, why, sizeof(why));
	if (why_has)
		ck_assert_msg(strstr(why, why_has) != NULL, "%s: %s", u, why);
	return rc;
}

START_TEST(urls_are_checked_against_the_list)
{
	const char *list = "127.0.0.1:9000 hooks.example.com";
	ck_assert_int_eq(url(list, "http://127.0.0.1:9000/done?x=1", NULL), 0);
	ck_assert_int_eq(url(list, "https://hooks.example.com/ft", NULL), 0);
	ck_assert_int_eq(url(list, "http://hooks.example.com:8080/ft", NULL), 0);
	ck_assert_int_eq(url(list, "http://127.0.0.1:9001/", "127.0.0.1 port 9001"), -1);
	/* The default port is the one compared. */
	ck_assert_int_eq(url(list, "http://127.0.0.1/", "port 80"), -1);
	ck_assert_int_eq(url(list, "http://169.254.169.254/latest/", "not allowed"), -1);
	ck_assert_int_eq(url(list, "ftp://hooks.example.com/", "http or https"), -1);
	ck_assert_int_eq(url(list, "file:///etc/passwd", NULL), -1);
	ck_assert_int_eq(url(list, "/relative", "absolute"), -1);
	ck_assert_int_eq(url(list, "http://u:p@hooks.example.com/", "user name"), -1);
	ck_assert_int_eq(url("", "http://127.0.0.1:9000/", "callbacks.allowed_hosts is empty"), -1);
	char *long_url = malloc(GW_CALLBACK_URL_MAX + 32);
	strcpy(long_url, "http://hooks.example.com/");
	memset(long_url + strlen(long_url), 'a', GW_CALLBACK_URL_MAX);
	long_url[GW_CALLBACK_URL_MAX + 5] = '\0';
	ck_assert_int_eq(url(list, long_url, "longer than"), -1);
	free(long_url);
}
END_TEST

START_TEST(backoff_doubles_up_to_its_cap)
{
	ck_assert_int_eq(gw_callback_backoff_ms(1, 1000, 60000), 1000);
	ck_assert_int_eq(gw_callback_backoff_ms(2, 1000, 60000), 2000);
	ck_assert_int_eq(gw_callback_backoff_ms(3, 1000, 60000), 4000);
	ck_assert_int_eq(gw_callback_backoff_ms(7, 1000, 60000), 60000);
	ck_assert_int_eq(gw_callback_backoff_ms(100, 1000, 60000), 60000);
	ck_assert_int_eq(gw_callback_backoff_ms(1, 5000, 100), 100);
}
END_TEST

START_TEST(signature_is_hmac_sha256_of_timestamp_dot_body)
{
	/* Python: hmac.new(key, b"1700000000." + body, hashlib.sha256). */
	char sig[GW_CALLBACK_SIG_LEN];
	const char *body = "{\"id\":\"x\"}";
	gw_callback_sign((const unsigned char *)"0123456789abcdef", 16, "1700000000", body,
			 strlen(body), sig);
	ck_assert_str_eq(sig, "sha256=f1cf8ba6a2fa64bd8193b9db564f42cd35d0fc2a46f6a2c2903f89783"
			      "8a7f23a");
	/* Another timestamp is another signature: an old one cannot be replayed
	 * as new. */
	char other[GW_CALLBACK_SIG_LEN];
	gw_callback_sign((const unsigned char *)"0123456789abcdef", 16, "1700000001", body,
			 strlen(body), other);
	ck_assert_str_ne(sig, other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("callback");
	TCase *tc = tcase_create("callback");
	tcase_add_test(tc, host_lists_are_checked);
	tcase_add_test(tc, hosts_match_as_written);
	tcase_add_test(tc, urls_are_checked_against_the_list);
	tcase_add_test(tc, backoff_doubles_up_to_its_cap);
	tcase_add_test(tc, signature_is_hmac_sha256_of_timestamp_dot_body);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
