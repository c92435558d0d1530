/* Class-name discovery in Java sources (job/javasrc.c). */
#include "job/javasrc.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

struct found {
	int rc;
	char fq[256];
	char simple[128];
};

static struct found find_len(const char *src, size_t len)
{
	struct found f;
	memset(&f, 0, sizeof(f));
	f.rc = ft_java_class_name(src, len, f.fq, sizeof(f.fq), f.simple, sizeof(f.simple));
	return f;
}

static struct found find(const char *src)
{
	return find_len(src, strlen(src));
}

#define ck_found(src, want_fq, want_simple)               \
	do {                                              \
		struct found f_ = find(src);              \
		ck_assert_int_eq(f_.rc, 0);               \
		ck_assert_str_eq(f_.fq, want_fq);         \
		ck_assert_str_eq(f_.simple, want_simple); \
	} while (0)

#define ck_not_found(src) ck_assert_int_eq(find(src).rc, -1)

START_TEST(test_simple)
{
	ck_found("public class Hello { public String run() { return \"hi\"; } }", "Hello", "Hello");
	ck_found("import java.util.*;\n\npublic class A$b_1 {}", "A$b_1", "A$b_1");
}
END_TEST

START_TEST(test_package)
{
	ck_found("package com.example;\npublic class Foo {}", "com.example.Foo", "Foo");
	ck_found("package a . b /* c */ . d ;\nimport x.y;\npublic class Foo {}", "a.b.d.Foo",
		 "Foo");
	ck_found("// header\n/* more */\npackage p;public class Q{}", "p.Q", "Q");
	/* A package clause without the semicolon is not one. */
	ck_found("package p public class Q {}", "Q", "Q");
}
END_TEST

START_TEST(test_comments)
{
	ck_found("// public class Fake {}\npublic class Real {}", "Real", "Real");
	ck_found("/* public class Fake {} */ public class Real {}", "Real", "Real");
	ck_found("/** javadoc: public class Fake\n * package nope;\n */\npublic class Real {}",
		 "Real", "Real");
	ck_found("public /* class Fake */ class Real {}", "Real", "Real");
	ck_found("public class // Fake\n Real {}", "Real", "Real");
	ck_not_found("/* public class Fake {}");
	ck_not_found("// public class Fake {}");
	/* A comment-start inside a string is not a comment. */
	ck_found("class A { String s = \"/*\"; }\npublic class B {}", "B", "B");
}
END_TEST

START_TEST(test_strings_and_chars)
{
	ck_found("class A { String s = \"public class Fake {\"; }\npublic class Real {}", "Real",
		 "Real");
	ck_found("class A { String s = \"\\\" public class Fake {\"; }\npublic class Real {}",
		 "Real", "Real");
	ck_found("class A { char c = '{'; char d = '\\''; char e = '\"'; }\npublic class Real {}",
		 "Real", "Real");
	ck_found(
		"class A { String t = \"\"\"\n   public class Fake { \"\" \\\"\"\"\n  }\n\"\"\"; }\n"
		"public class Real {}",
		"Real", "Real");
	/* Quotes inside a text block neither end it nor start a string. */
	ck_found("class A { String t = \"\"\"\n{ \" \"\" '\n}}\n\"\"\"; }\npublic class Real {}",
		 "Real", "Real");
	ck_found("class A { String t = \"\"\"\n{\n\"\"\"; }\npublic class Real {}", "Real", "Real");
	ck_found("@Ann(\"public class Fake {\") public class Real {}", "Real", "Real");
	/* An unterminated string stops at the end of its line. */
	ck_found("class A { String s = \"oops\n; }\npublic class Real {}", "Real", "Real");
}
END_TEST

START_TEST(test_modifiers)
{
	ck_found("public final class F {}", "F", "F");
	ck_found("public abstract class F {}", "F", "F");
	ck_found("public strictfp final class F {}", "F", "F");
	ck_found("public sealed class F permits G {}\nfinal class G extends F {}", "F", "F");
	ck_found("public non-sealed class F extends G {}", "F", "F");
	ck_found("public @Deprecated class F {}", "F", "F");
	ck_found("public @SuppressWarnings({\"a\", \"b\"}) final class F {}", "F", "F");
	ck_found("@SuppressWarnings(\"x\")\npublic class F {}", "F", "F");
	ck_found("public class F<T extends Comparable<T>> {}", "F", "F");
}
END_TEST

START_TEST(test_not_classes)
{
	ck_not_found("public interface I { String run(); }");
	ck_not_found("public enum E { A, B }");
	ck_not_found("public record R(int x) {}");
	ck_not_found("public @interface Ann {}");
	ck_not_found("class Hidden { public String run() { return \"\"; } }");
	/* But a public class after them is found. */
	ck_found("public interface I {}\npublic enum E { A }\npublic class C {}", "C", "C");
}
END_TEST

START_TEST(test_empty)
{
	ck_not_found("");
	ck_assert_int_eq(find_len(NULL, 0).rc, -1);
	ck_not_found("   \n\t ");
	ck_not_found("public");
	ck_not_found("public class");
	ck_not_found("public class {");
	ck_not_found("package a.b;");
}
END_TEST

START_TEST(test_nested_ignored)
{
	ck_found("class Outer { public class Inner {} }\npublic class Top {}", "Top", "Top");
	ck_not_found("class Outer { public static class Inner {} public class In2 {} }");
	ck_found("public class Top { public class Inner {} }", "Top", "Top");
	/* Braces in literals and comments do not change the depth. */
	ck_found("class O { String s = \"}\"; char c = '}'; /* } */ // }\n}\npublic class T {}",
		 "T", "T");
	ck_not_found("class O { String s = \"}\"; char c = '}'; /* } */ // }\n public class T {}");
}
END_TEST

START_TEST(test_identifiers)
{
	ck_found("public class Größe {}", "Größe", "Größe");
	ck_found("package é.ü;\npublic class Ω {}", "é.ü.Ω", "Ω");
	/* `class` as part of a longer word does not count. */
	ck_not_found("public classy Foo {}");
	ck_not_found("public class 9Foo {}");
	ck_found("class A { Object o = String.class; }\npublic class B {}", "B", "B");
}
END_TEST

START_TEST(test_does_not_fit)
{
	char fq[8], simple[8];
	const char *src = "package abc.def;\npublic class Foo {}";
	ck_assert_int_eq(
		ft_java_class_name(src, strlen(src), fq, sizeof(fq), simple, sizeof(simple)), -1);
	char fq2[64], simple2[3];
	ck_assert_int_eq(
		ft_java_class_name(src, strlen(src), fq2, sizeof(fq2), simple2, sizeof(simple2)),
		-1);
	char simple3[4];
	ck_assert_int_eq(
		ft_java_class_name(src, strlen(src), fq2, sizeof(fq2), simple3, sizeof(simple3)),
		0);
	ck_assert_str_eq(fq2, "abc.def.Foo");
	ck_assert_str_eq(simple3, "Foo");
}
END_TEST

START_TEST(test_length_is_respected)
{
	/* Bytes past len must not be read: the class name is cut short. */
	const char *src = "public class FooBar {}";
	struct found f = find_len(src, strlen("public class Foo"));
	ck_assert_int_eq(f.rc, 0);
	ck_assert_str_eq(f.simple, "Foo");
	/* An embedded NUL is just a byte. */
	static const char nul[] = "class A {}\0 public class B {}";
	f = find_len(nul, sizeof(nul) - 1);
	ck_assert_int_eq(f.rc, 0);
	ck_assert_str_eq(f.simple, "B");
}
END_TEST

START_TEST(test_garbage_does_not_crash)
{
	static const char bad[] = "\xff\xfe public \x80\x81 class \xc3 \xe2\x82 { \" \xff ' \\";
	find_len(bad, sizeof(bad) - 1);
	/* Every prefix of tricky input, so literal/comment ends fall off the
	 * end of the buffer at every position (valgrind/ASan check reads). */
	static const char tricky[] =
		"/* x */ \"\"\" a \\\"\"\" \"s\\\" ' \\' // c\n/* public class";
	for (size_t i = 0; i <= sizeof(tricky) - 1; i++) {
		char *copy = malloc(i ? i : 1);
		memcpy(copy, tricky, i);
		find_len(copy, i);
		free(copy);
	}
	/* Pseudo-random bytes. */
	unsigned x = 12345;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(round * 7 % 300);
		char *buf = malloc(n ? n : 1);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		find_len(buf, n);
		free(buf);
	}
	/* Deep nesting and unbalanced braces. */
	char deep[4096];
	memset(deep, '}', sizeof(deep) / 2);
	memset(deep + sizeof(deep) / 2, '{', sizeof(deep) / 2);
	find_len(deep, sizeof(deep));
	ck_found("}}} public class AfterUnbalanced {}", "AfterUnbalanced", "AfterUnbalanced");
}
END_TEST

static Suite *javasrc_suite(void)
{
	Suite *s = suite_create("javasrc");
	TCase *tc = tcase_create("class_name");
	tcase_add_test(tc, test_simple);
	tcase_add_test(tc, test_package);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_strings_and_chars);
	tcase_add_test(tc, test_modifiers);
	tcase_add_test(tc, test_not_classes);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_nested_ignored);
	tcase_add_test(tc, test_identifiers);
	tcase_add_test(tc, test_does_not_fit);
	tcase_add_test(tc, test_length_is_respected);
	tcase_add_test(tc, test_garbage_does_not_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(javasrc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
