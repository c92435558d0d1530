/* Unit tests of who may use the gateway: the tokens file's parser
 * (gateway/tokens.c), the Origin and Host allow-lists (lib/allowlist.c)
 * and the decision that puts them together with the rate limits
 * (gateway/access.c), on a fake clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/settings.h"
#include "gateway/access.h"
#include "gateway/tokens.h"
#include "lib/allowlist.h"

#define T0 7000000
#define TOK_A "alpha-0123456789abcdef"
#define TOK_B "bravo+/~._-0123456789=="

static char err[512];

static struct gw_tokens *parse(const char *text)
{
	err[0] = '\0';
	return gw_tokens_parse("tokens", text, strlen(text), err, sizeof(err));
}

/* ---- the tokens file ---- */

START_TEST(tokens_with_labels_comments_and_blank_lines)
{
	struct gw_tokens *t = parse("# the CI and Ann\n"
				    "\n" TOK_A "   ci runner  \n"
				    "   # indented comment\n"
				    "\t" TOK_B "\r\n");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(gw_tokens_count(t), 2);
	ck_assert_int_eq(gw_tokens_find(t, TOK_A, strlen(TOK_A)), 0);
	ck_assert_int_eq(gw_tokens_find(t, TOK_B, strlen(TOK_B)), 1);
	ck_assert_str_eq(gw_tokens_label(t, 0), "ci runner");
	/* No label: its line. */
	ck_assert_str_eq(gw_tokens_label(t, 1), "line 5");
	/* A prefix, a longer string, another case: not the token. */
	ck_assert_int_eq(gw_tokens_find(t, TOK_A, strlen(TOK_A) - 1), -1);
	ck_assert_int_eq(gw_tokens_find(t, TOK_A "x", strlen(TOK_A) + 1), -1);
	ck_assert_int_eq(gw_tokens_find(t, "ALPHA-0123456789abcdef", strlen(TOK_A)), -1);
	ck_assert_int_eq(gw_tokens_find(t, "", 0), -1);
	/* The key that names a token is its SHA-256, not the token. */
	ck_assert(memcmp(gw_tokens_hash(t, 0), TOK_A, 16) != 0);
	ck_assert(memcmp(gw_tokens_hash(t, 0), gw_tokens_hash(t, 1), GW_TOKEN_HASH_LEN) != 0);
	gw_tokens_free(t);
}
END_TEST

START_TEST(an_empty_file_has_no_token)
{
	struct gw_tokens *t = parse("# nobody yet\n\n");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(gw_tokens_count(t), 0);
	ck_assert_int_eq(gw_tokens_find(t, TOK_A, strlen(TOK_A)), -1);
	gw_tokens_free(t);
	ck_assert_int_eq(gw_tokens_find(NULL, TOK_A, strlen(TOK_A)), -1);
}
END_TEST

START_TEST(bad_tokens_are_refused_with_their_line_and_never_shown)
{
	ck_assert_ptr_null(parse(TOK_A "\nshort-token\n"));
	ck_assert_str_eq(err, "tokens:2: a token has 16 to 256 characters, this one 11");
	ck_assert_ptr_null(parse("tok\"en-0123456789abcdef\n"));
	ck_assert_str_eq(err,
			 "tokens:1: a token is letters, digits and - . _ ~ + / (then any '=')");
	/* '=' only at the end. */
	ck_assert_ptr_null(parse("abc=def0123456789abcdef\n"));
	ck_assert_ptr_nonnull(strstr(err, "tokens:1:"));
	ck_assert_ptr_null(parse(TOK_A " ci\n" TOK_A " again\n"));
	ck_assert_str_eq(err, "tokens:2: the same token as 'ci' (listed twice)");
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(parse(big));
	ck_assert_ptr_nonnull(strstr(err, "this one 399"));
	ck_assert_ptr_null(
		gw_tokens_parse("tokens", TOK_A "\0x\n", strlen(TOK_A) + 3, err, sizeof(err)));
	ck_assert_str_eq(err, "tokens:1: a NUL byte: not a text file");
	ck_assert_ptr_null(strstr(err, "alpha"));
}
END_TEST

START_TEST(labels_are_cut_and_control_characters_replaced)
{
	char text[300];
	snprintf(text, sizeof(text), "%s a\033[31mred label %0100d\n", TOK_A, 7);
	struct gw_tokens *t = parse(text);
	ck_assert_ptr_nonnull(t);
	const char *label = gw_tokens_label(t, 0);
	ck_assert_uint_eq(strlen(label), GW_TOKEN_LABEL_MAX - 1);
	ck_assert_ptr_null(strchr(label, '\033'));
	ck_assert(strncmp(label, "a?[31mred label", 15) == 0);
	gw_tokens_free(t);
}
END_TEST

START_TEST(a_tokens_file_others_can_read_is_refused)
{
	char path[] = "/tmp/check_gwaccess.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char text[] = TOK_A " ci\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(chmod(path, 0600), 0);
	struct gw_tokens *t = gw_tokens_load(path, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_uint_eq(gw_tokens_count(t), 1);
	gw_tokens_free(t);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_ptr_null(gw_tokens_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(
		strstr(err, "can be read or written by others (mode 640): chmod 600"));
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_ptr_null(gw_tokens_load(path, err, sizeof(err)));
	unlink(path);
	ck_assert_ptr_null(gw_tokens_load(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_ptr_null(gw_tokens_load("/tmp", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(bearer_tokens_from_authorization_headers)
{
	size_t n = 0;
	const char *t = gw_bearer_token("Bearer " TOK_A, &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(n, strlen(TOK_A));
	ck_assert(strncmp(t, TOK_A, n) == 0);
	t = gw_bearer_token("  bearer\t" TOK_A "  ", &n);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(n, strlen(TOK_A));
	ck_assert_ptr_null(gw_bearer_token(NULL, &n));
	ck_assert_ptr_null(gw_bearer_token("Basic dXNlcjpwdw==", &n));
	ck_assert_ptr_null(gw_bearer_token("Bearer", &n));
	ck_assert_ptr_null(gw_bearer_token("Bearer   ", &n));
	ck_assert_ptr_null(gw_bearer_token("Bearertoken0123456789", &n));
	ck_assert_ptr_null(gw_bearer_token("Bearer one two", &n));
}
END_TEST

/* ---- Origin and Host ---- */

START_TEST(origins_match_scheme_host_and_port)
{
	const char *list = "https://app.example.com, http://localhost:3000 https://*.corp.example";
	ck_assert_int_eq(ft_origin_list_check(list, err, sizeof(err)), 0);
	ck_assert(ft_origin_allowed(list, "https://app.example.com"));
	ck_assert(ft_origin_allowed(list, "HTTPS://App.Example.COM"));
	ck_assert(ft_origin_allowed(list, "https://app.example.com:443"));
	ck_assert(ft_origin_allowed(list, "http://localhost:3000"));
	ck_assert(ft_origin_allowed(list, "https://a.b.corp.example"));
	/* Another scheme, port, host, or the wildcard's own domain: no. */
	ck_assert(!ft_origin_allowed(list, "http://app.example.com"));
	ck_assert(!ft_origin_allowed(list, "https://app.example.com:8443"));
	ck_assert(!ft_origin_allowed(list, "http://localhost"));
	ck_assert(!ft_origin_allowed(list, "https://corp.example"));
	ck_assert(!ft_origin_allowed(list, "https://evilcorp.example"));
	ck_assert(!ft_origin_allowed(list, "https://app.example.com.evil.net"));
	ck_assert(!ft_origin_allowed(list, "null"));
	ck_assert(!ft_origin_allowed(list, NULL));
	ck_assert(!ft_origin_allowed(list, "https://app.example.com/"));
	ck_assert(!ft_origin_allowed("", "https://app.example.com"));
	/* "*": any origin, but still only origins. */
	ck_assert(ft_origin_allowed("*", "https://anything.example:9"));
	ck_assert(!ft_origin_allowed("*", "null"));
	ck_assert(ft_origin_allowed("http://[::1]:8080", "http://[::1]:8080"));
}
END_TEST

START_TEST(bad_origin_entries_are_named)
{
	ck_assert_int_eq(ft_origin_list_check("", err, sizeof(err)), 0);
	ck_assert_int_eq(ft_origin_list_check("*", err, sizeof(err)), 0);
	ck_assert_int_eq(ft_origin_list_check("https://a.example/app", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "'https://a.example/app' is not an origin"));
	ck_assert_int_eq(ft_origin_list_check("a.example", err, sizeof(err)), -1);
	ck_assert_int_eq(ft_origin_list_check("ftp://a.example", err, sizeof(err)), -1);
	ck_assert_int_eq(ft_origin_list_check("null", err, sizeof(err)), -1);
	ck_assert_int_eq(ft_origin_list_check("https://a.example:99999", err, sizeof(err)), -1);
	ck_assert_int_eq(ft_origin_list_check("https://", err, sizeof(err)), -1);
}
END_TEST

START_TEST(hosts_match_with_the_default_port)
{
	const char *list = "ftgw.example.com localhost:8888 127.0.0.1:8888 *.corp [::1]";
	ck_assert(ft_host_header_allowed("", "anything:1", 80));
	ck_assert(ft_host_header_allowed("", NULL, 80));
	ck_assert(ft_host_header_allowed(list, "ftgw.example.com", 80));
	ck_assert(ft_host_header_allowed(list, "FTGW.example.com:8443", 443));
	ck_assert(ft_host_header_allowed(list, "localhost:8888", 80));
	ck_assert(ft_host_header_allowed(list, "127.0.0.1:8888", 80));
	ck_assert(ft_host_header_allowed(list, "gw.corp", 80));
	ck_assert(ft_host_header_allowed(list, "[::1]:8888", 80));
	/* localhost:8888 names that port only: the default is 80. */
	ck_assert(!ft_host_header_allowed(list, "localhost", 80));
	ck_assert(!ft_host_header_allowed(list, "localhost:8889", 80));
	ck_assert(!ft_host_header_allowed(list, "evil.example", 80));
	ck_assert(!ft_host_header_allowed(list, "ftgw.example.com.evil.example", 80));
	ck_assert(!ft_host_header_allowed(list, NULL, 80));
	ck_assert(!ft_host_header_allowed(list, "", 80));
	ck_assert(!ft_host_header_allowed(list, "ftgw.example.com:", 80));
	ck_assert(!ft_host_header_allowed(list, "ftgw.example.com:http", 80));
	ck_assert(!ft_host_header_allowed(list, "user@ftgw.example.com", 80));
}
END_TEST

/* ---- the decision ---- */

static struct ft_config cfg;

static void setup(void)
{
	ft_config_defaults(&cfg);
}

static struct gw_access_verdict check(struct gw_access *a, const char *method, const char *path,
				      const char *auth, const char *peer, int64_t now)
{
	struct gw_access_req req = {
		.method = method,
		.path = path,
		.host = "127.0.0.1:8888",
		.authorization = auth,
		.peer = peer,
	};
	struct gw_access_verdict v;
	gw_access_check(a, &cfg.gw_access, false, &req, now, &v);
	return v;
}

START_TEST(by_default_everything_passes)
{
	struct gw_access *a = gw_access_new();
	for (int i = 0; i < 1000; i++) {
		struct gw_access_verdict v =
			check(a, "POST", "/compileandrun", NULL, "10.0.0.1", T0);
		ck_assert_int_eq(v.outcome, GW_ACCESS_PASS);
		ck_assert_ptr_null(v.allow_origin);
	}
	/* No rate limit: no bucket kept either. */
	ck_assert_uint_eq(gw_access_addresses(a), 0);
	gw_access_free(a);
}
END_TEST

START_TEST(with_tokens_only_the_open_paths_need_none)
{
	struct gw_access *a = gw_access_new();
	gw_access_set_tokens(a, parse(TOK_A " ci\n" TOK_B "\n"));
	const char *closed[] = { "/compileandrun", "/v1/runs",	 "/v1/cluster", "/api/v2/execute",
				 "/submissions",   "/languages", "/nowhere",	"/metricsx" };
	for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
		struct gw_access_verdict v = check(a, "GET", closed[i], NULL, "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_NO_TOKEN, "%s", closed[i]);
		v = check(a, "GET", closed[i], "Bearer wrong-token-0123456789", "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_BAD_TOKEN, "%s", closed[i]);
		v = check(a, "GET", closed[i], "Basic " TOK_A, "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_NO_TOKEN, "%s", closed[i]);
		v = check(a, "GET", closed[i], "Bearer " TOK_B, "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_PASS, "%s", closed[i]);
		ck_assert_int_eq(v.token, 1);
	}
	const char *open[] = { "/cluster", "/", "/index.html", "/metrics" };
	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
		struct gw_access_verdict v = check(a, "GET", open[i], NULL, "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_PASS, "%s", open[i]);
		/* A wrong token on an open path is no reason to refuse it. */
		v = check(a, "GET", open[i], "Bearer wrong-token-0123456789", "10.0.0.1", T0);
		ck_assert_msg(v.outcome == GW_ACCESS_PASS, "%s", open[i]);
	}
	cfg.gw_access.metrics_public = 0;
	ck_assert_int_eq(check(a, "GET", "/metrics", NULL, "10.0.0.1", T0).outcome,
			 GW_ACCESS_NO_TOKEN);
	ck_assert_int_eq(check(a, "GET", "/metrics", "Bearer " TOK_A, "10.0.0.1", T0).outcome,
			 GW_ACCESS_PASS);
	/* An empty set: tokens needed, none valid. */
	gw_access_set_tokens(a, parse(""));
	ck_assert_int_eq(check(a, "GET", "/v1/runs", "Bearer " TOK_A, "10.0.0.1", T0).outcome,
			 GW_ACCESS_BAD_TOKEN);
	ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.1", T0).outcome, GW_ACCESS_PASS);
	/* None: open again. */
	gw_access_set_tokens(a, NULL);
	ck_assert_int_eq(check(a, "GET", "/v1/runs", NULL, "10.0.0.1", T0).outcome, GW_ACCESS_PASS);
	gw_access_free(a);
}
END_TEST

START_TEST(rates_per_address_and_per_token)
{
	struct gw_access *a = gw_access_new();
	gw_access_set_tokens(a, parse(TOK_A " ci\n" TOK_B " ann\n"));
	cfg.gw_access.rate_per_second = 2;
	cfg.gw_access.rate_burst = 3;
	/* An address: 3 at once, then refused with a wait of a second (half a
	 * second, rounded up). */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.1", T0).outcome,
				 GW_ACCESS_PASS);
	struct gw_access_verdict v = check(a, "GET", "/cluster", NULL, "10.0.0.1", T0);
	ck_assert_int_eq(v.outcome, GW_ACCESS_RATE);
	ck_assert_int_eq(v.retry_after_s, 1);
	ck_assert(!v.rate_by_token);
	/* Wrong tokens are charged to the address too: guessing is limited. */
	v = check(a, "GET", "/v1/runs", "Bearer wrong-token-0123456789", "10.0.0.1", T0);
	ck_assert_int_eq(v.outcome, GW_ACCESS_RATE);
	/* Another address has its own bucket; so does each valid token, even
	 * from the address that is over its rate. */
	ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.2", T0).outcome, GW_ACCESS_PASS);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(
			check(a, "GET", "/v1/runs", "Bearer " TOK_A, "10.0.0.1", T0).outcome,
			GW_ACCESS_PASS);
	v = check(a, "GET", "/v1/runs", "Bearer " TOK_A, "10.0.0.9", T0);
	ck_assert_int_eq(v.outcome, GW_ACCESS_RATE);
	ck_assert(v.rate_by_token);
	ck_assert_int_eq(v.token, 0);
	ck_assert_int_eq(check(a, "GET", "/v1/runs", "Bearer " TOK_B, "10.0.0.1", T0).outcome,
			 GW_ACCESS_PASS);
	/* Half a second later, one more each. */
	ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.1", T0 + 500).outcome,
			 GW_ACCESS_PASS);
	ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.1", T0 + 500).outcome,
			 GW_ACCESS_RATE);
	/* A slow rate says how many seconds to wait. */
	cfg.gw_access.rate_per_second = 1;
	cfg.gw_access.rate_burst = 1;
	check(a, "GET", "/cluster", NULL, "10.0.0.7", T0);
	v = check(a, "GET", "/cluster", NULL, "10.0.0.7", T0 + 1);
	ck_assert_int_eq(v.outcome, GW_ACCESS_RATE);
	ck_assert_int_eq(v.retry_after_s, 1);
	/* The table of addresses is bounded. */
	cfg.gw_access.rate_max_addresses = 5;
	char peer[32];
	for (int i = 0; i < 100; i++) {
		snprintf(peer, sizeof(peer), "10.1.0.%d", i);
		check(a, "GET", "/cluster", NULL, peer, T0);
		ck_assert_uint_le(gw_access_addresses(a), 5);
	}
	/* Off again: nothing refused. */
	cfg.gw_access.rate_per_second = 0;
	ck_assert_int_eq(check(a, "GET", "/cluster", NULL, "10.0.0.1", T0 + 501).outcome,
			 GW_ACCESS_PASS);
	gw_access_free(a);
}
END_TEST

START_TEST(the_host_is_checked_first)
{
	struct gw_access *a = gw_access_new();
	gw_access_set_tokens(a, parse(TOK_A "\n"));
	strcpy(cfg.gw_access.allowed_hosts, "ftgw.example:8888 127.0.0.1:8888");
	cfg.gw_access.rate_per_second = 1;
	cfg.gw_access.rate_burst = 1;
	struct gw_access_req req = {
		.method = "GET", .path = "/v1/runs", .host = "evil.example", .peer = "10.0.0.1"
	};
	struct gw_access_verdict v;
	for (int i = 0; i < 3; i++) {
		/* Refused for its host, not for its token or its rate. */
		gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
		ck_assert_int_eq(v.outcome, GW_ACCESS_BAD_HOST);
	}
	req.host = NULL;
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_BAD_HOST);
	req.host = "ftgw.example:8888";
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_NO_TOKEN);
	/* Over HTTPS a Host without a port names 443. */
	strcpy(cfg.gw_access.allowed_hosts, "ftgw.example:443");
	req.host = "ftgw.example";
	req.peer = "10.0.0.2";
	gw_access_check(a, &cfg.gw_access, true, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_NO_TOKEN);
	req.peer = "10.0.0.3";
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_BAD_HOST);
	gw_access_free(a);
}
END_TEST

START_TEST(preflights_and_allowed_origins)
{
	struct gw_access *a = gw_access_new();
	gw_access_set_tokens(a, parse(TOK_A "\n"));
	struct gw_access_req req = { .method = "OPTIONS",
				     .path = "/v1/runs",
				     .host = "127.0.0.1:8888",
				     .origin = "https://app.example",
				     .preflight_method = "POST",
				     .peer = "10.0.0.1" };
	struct gw_access_verdict v;
	/* No cors_origins (the default): OPTIONS is only a method; it needs a
	 * token like any other. */
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_NO_TOKEN);
	ck_assert_ptr_null(v.allow_origin);
	strcpy(cfg.gw_access.cors_origins, "https://app.example");
	/* A preflight carries no token: it is answered before the token check. */
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_PREFLIGHT);
	ck_assert_str_eq(v.allow_origin, "https://app.example");
	req.origin = "https://evil.example";
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_BAD_ORIGIN);
	ck_assert_ptr_null(v.allow_origin);
	/* Not a preflight (no Access-Control-Request-Method): a plain OPTIONS. */
	req.origin = "https://app.example";
	req.preflight_method = NULL;
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_NO_TOKEN);
	/* A listed origin's refusals still carry its origin, so that its
	 * script can read why. */
	ck_assert_str_eq(v.allow_origin, "https://app.example");
	req.method = "POST";
	req.authorization = "Bearer " TOK_A;
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_PASS);
	ck_assert_str_eq(v.allow_origin, "https://app.example");
	/* An origin not listed goes on (the browser keeps the answer from its
	 * script), without an allowed origin. */
	req.origin = "https://evil.example";
	gw_access_check(a, &cfg.gw_access, false, &req, T0, &v);
	ck_assert_int_eq(v.outcome, GW_ACCESS_PASS);
	ck_assert_ptr_null(v.allow_origin);
	gw_access_free(a);
}
END_TEST

START_TEST(the_settings_rules_check_the_lists)
{
	char msg[512];
	strcpy(cfg.gw_access.cors_origins, "https://ok.example https://bad.example/path");
	const struct ft_config_rule *r = ft_config_broken_rule(&cfg, msg, sizeof(msg));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->first, "gateway.cors_origins");
	ck_assert_ptr_nonnull(strstr(msg, "'https://bad.example/path' is not an origin"));
	cfg.gw_access.cors_origins[0] = '\0';
	strcpy(cfg.gw_access.allowed_hosts, "ok.example http://bad");
	r = ft_config_broken_rule(&cfg, msg, sizeof(msg));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->first, "gateway.allowed_hosts");
	cfg.gw_access.allowed_hosts[0] = '\0';
	strcpy(cfg.gw_access.tls_cert_file, "/etc/ftcluster/gw.crt");
	r = ft_config_broken_rule(&cfg, msg, sizeof(msg));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->first, "gateway.tls_cert_file");
	ck_assert_str_eq(msg, "gateway.tls_cert_file and gateway.tls_key_file go together: set "
			      "both for HTTPS, or neither");
	strcpy(cfg.gw_access.tls_key_file, "/etc/ftcluster/gw.key");
	ck_assert_ptr_null(ft_config_broken_rule(&cfg, msg, sizeof(msg)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gwaccess");
	TCase *tt = tcase_create("tokens");
	tcase_add_test(tt, tokens_with_labels_comments_and_blank_lines);
	tcase_add_test(tt, an_empty_file_has_no_token);
	tcase_add_test(tt, bad_tokens_are_refused_with_their_line_and_never_shown);
	tcase_add_test(tt, labels_are_cut_and_control_characters_replaced);
	tcase_add_test(tt, a_tokens_file_others_can_read_is_refused);
	tcase_add_test(tt, bearer_tokens_from_authorization_headers);
	suite_add_tcase(s, tt);
	TCase *tl = tcase_create("allowlists");
	tcase_add_test(tl, origins_match_scheme_host_and_port);
	tcase_add_test(tl, bad_origin_entries_are_named);
	tcase_add_test(tl, hosts_match_with_the_default_port);
	suite_add_tcase(s, tl);
	TCase *td = tcase_create("decision");
	tcase_add_checked_fixture(td, setup, NULL);
	tcase_add_test(td, by_default_everything_passes);
	tcase_add_test(td, with_tokens_only_the_open_paths_need_none);
	tcase_add_test(td, rates_per_address_and_per_token);
	tcase_add_test(td, the_host_is_checked_first);
	tcase_add_test(td, preflights_and_allowed_origins);
	tcase_add_test(td, the_settings_rules_check_the_lists);
	suite_add_tcase(s, td);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
