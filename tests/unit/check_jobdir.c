/* Job directories (runner/jobdir.c), in a temporary directory: making and
 * removing them (whatever a program left), the files written for the
 * children, the class files of a compilation, and bounded reads. */
#include <check.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "runner/jobdir.h"

static char top[] = "/tmp/check_jobdir-XXXXXX";
static int topfd = -1;

static void setup(void)
{
	strcpy(top, "/tmp/check_jobdir-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(topfd, 0);
}

static void teardown(void)
{
	close(topfd);
	ft_jobdir_remove(top);
	ck_assert_int_ne(access(top, F_OK), 0);
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static unsigned mode_at(int dirfd, const char *name)
{
	struct stat st;
	ck_assert_int_eq(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode & 07777;
}

static char *slurp_at(int dirfd, const char *name, size_t *len)
{
	char *s = ft_jobdir_read(dirfd, name, 1 << 20, len);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(make_and_remove)
{
	char *path;
	int fd;
	ck_assert_int_eq(ft_jobdir_make(top, FT_JOBDIR_JOB, false, &path, &fd), 0);
	ck_assert_ptr_nonnull(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(strncmp(path, top, strlen(top)), 0);
	ck_assert_int_eq(strncmp(path + strlen(top), "/job-", 5), 0);
	ck_assert_uint_eq(strlen(path), strlen(top) + 5 + 6);
	ck_assert_uint_eq(mode_at(AT_FDCWD, path), 0700);
	close(fd);

	char *shared;
	ck_assert_int_eq(ft_jobdir_make(top, FT_JOBDIR_SPARE, true, &shared, &fd), 0);
	ck_assert_uint_eq(mode_at(AT_FDCWD, shared), 0755);

	/* What a program may leave: deep trees, read-only and unreadable
	 * directories, files without permissions. */
	ck_assert_int_eq(mkdirat(fd, "a", 0755), 0);
	ck_assert_int_eq(mkdirat(fd, "a/b", 0755), 0);
	ck_assert_int_eq(ft_jobdir_write_file(fd, "a/b/f", "x", 1), 0);
	ck_assert_int_eq(fchmodat(fd, "a/b/f", 0, 0), 0);
	ck_assert_int_eq(fchmodat(fd, "a/b", 0500, 0), 0);
	ck_assert_int_eq(fchmodat(fd, "a", 0, 0), 0);
	ck_assert_int_eq(symlinkat("/", fd, "root-link"), 0);
	close(fd);
	ft_jobdir_remove(shared);
	ck_assert_int_ne(access(shared, F_OK), 0);
	ck_assert_int_eq(access("/", F_OK), 0);
	/* Gone already: nothing happens. */
	ft_jobdir_remove(shared);
	ft_jobdir_remove(path);
	ck_assert_int_ne(access(path, F_OK), 0);
	free(shared);
	free(path);

	/* No such parent: nothing is made. */
	char *none = ft_xasprintf("%s/missing", top);
	errno = 0;
	ck_assert_int_eq(ft_jobdir_make(none, FT_JOBDIR_JOB, false, &path, &fd), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(path);
	ck_assert_int_eq(fd, -1);
	free(none);
}
END_TEST

START_TEST(stale_directories)
{
	static const char *const stale[] = { "job-abc", "warm-x", "warm-compiler-y", "selftest-z" };
	static const char *const kept[] = { "jobs", "other", "sandbox-uids" };
	for (size_t i = 0; i < FT_ARRAY_SIZE(stale); i++) {
		ck_assert_int_eq(mkdirat(topfd, stale[i], 0700), 0);
		char *f = ft_xasprintf("%s/f", stale[i]);
		ck_assert_int_eq(ft_jobdir_write_file(topfd, f, "x", 1), 0);
		free(f);
	}
	for (size_t i = 0; i < FT_ARRAY_SIZE(kept); i++)
		ck_assert_int_eq(mkdirat(topfd, kept[i], 0700), 0);
	ft_jobdir_remove_stale(top);
	for (size_t i = 0; i < FT_ARRAY_SIZE(stale); i++)
		ck_assert_msg(!exists_at(topfd, stale[i]), "%s", stale[i]);
	for (size_t i = 0; i < FT_ARRAY_SIZE(kept); i++)
		ck_assert_msg(exists_at(topfd, kept[i]), "%s", kept[i]);
}
END_TEST

START_TEST(absolute_paths)
{
	char *p = ft_jobdir_absolute("/a/b");
	ck_assert_str_eq(p, "/a/b");
	free(p);
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	p = ft_jobdir_absolute("work");
	char *want = ft_xasprintf("%s/work", cwd);
	ck_assert_str_eq(p, want);
	free(want);
	free(p);
}
END_TEST

START_TEST(files_for_the_children)
{
	ck_assert_int_eq(ft_jobdir_write_file(topfd, "Main.java", "class Main {}", 13), 0);
	ck_assert_uint_eq(mode_at(topfd, "Main.java"), 0644);
	/* Never over an existing file, nor through a link. */
	errno = 0;
	ck_assert_int_eq(ft_jobdir_write_file(topfd, "Main.java", "x", 1), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(symlinkat("/tmp/nowhere", topfd, "link"), 0);
	ck_assert_int_eq(ft_jobdir_write_file(topfd, "link", "x", 1), -1);

	ck_assert_int_eq(ft_jobdir_write_run_inputs(topfd, &(struct ft_run_inputs){ 0 }), 0);
	ck_assert(!exists_at(topfd, FT_JOBDIR_RUN_INPUT));
	ck_assert(!exists_at(topfd, FT_JOBDIR_RUN_ARGS));
	ck_assert(!exists_at(topfd, FT_JOBDIR_RUN_ENTRY));
	struct ft_run_inputs in = {
		.input = "in\0put", .input_len = 6, .args = "a\0b\0", .args_len = 4, .entry = "main"
	};
	ck_assert_int_eq(ft_jobdir_write_run_inputs(topfd, &in), 0);
	size_t len;
	char *s = slurp_at(topfd, FT_JOBDIR_RUN_INPUT, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(s, "in\0put", 6);
	free(s);
	s = slurp_at(topfd, FT_JOBDIR_RUN_ARGS, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(s, "a\0b\0", 4);
	free(s);
	s = slurp_at(topfd, FT_JOBDIR_RUN_ENTRY, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(s, "main", 4);
	free(s);
	/* An empty input is still a file. */
	struct ft_run_inputs empty = { .input = "" };
	ck_assert_int_eq(ft_jobdir_write_run_inputs(topfd, &empty), -1); /* exists */
	ck_assert_int_eq(unlinkat(topfd, FT_JOBDIR_RUN_INPUT, 0), 0);
	ck_assert_int_eq(ft_jobdir_write_run_inputs(topfd, &empty), 0);
	ck_assert_uint_eq(mode_at(topfd, FT_JOBDIR_RUN_INPUT), 0644);

	int fd = ft_jobdir_open_output(topfd, FT_JOBDIR_RUN_OUT);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(mode_at(topfd, FT_JOBDIR_RUN_OUT), 0600);
	ck_assert_int_eq(ft_jobdir_write_all(fd, "hello", 5), 0);
	close(fd);
	/* Truncated when opened again. */
	fd = ft_jobdir_open_output(topfd, FT_JOBDIR_RUN_OUT);
	close(fd);
	s = slurp_at(topfd, FT_JOBDIR_RUN_OUT, &len);
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

static struct ft_compiled *classes(const char *const *names, size_t n)
{
	struct ft_compiled *cc = ft_compiled_new_classes(n);
	for (size_t i = 0; i < n; i++) {
		cc->cls[i].name = ft_xstrdup(names[i]);
		cc->cls[i].data = (unsigned char *)ft_xasprintf("bytes of %s", names[i]);
		cc->cls[i].len = strlen((char *)cc->cls[i].data);
		cc->n = i + 1;
	}
	return cc;
}

START_TEST(class_files)
{
	static const char *const names[] = { "Main", "p.q.Main$Inner", "p.q.R", "p.S" };
	struct ft_compiled *cc = classes(names, FT_ARRAY_SIZE(names));
	/* No classes/ yet. */
	ck_assert_int_eq(ft_jobdir_write_classes(topfd, cc), -1);
	ck_assert_int_eq(mkdirat(topfd, FT_JOBDIR_CLASSES, 0700), 0);
	mode_t old = umask(077);
	ck_assert_int_eq(ft_jobdir_write_classes(topfd, cc), 0);
	umask(old);
	static const char *const files[] = { "classes/Main.class", "classes/p/q/Main$Inner.class",
					     "classes/p/q/R.class", "classes/p/S.class" };
	for (size_t i = 0; i < FT_ARRAY_SIZE(files); i++) {
		size_t len;
		char *s = slurp_at(topfd, files[i], &len);
		char *want = ft_xasprintf("bytes of %s", names[i]);
		ck_assert_str_eq(s, want);
		ck_assert_uint_eq(mode_at(topfd, files[i]), 0644);
		free(want);
		free(s);
	}
	/* Readable by the sandbox user whatever the daemon's umask. */
	ck_assert_uint_eq(mode_at(topfd, "classes/p"), 0755);
	ck_assert_uint_eq(mode_at(topfd, "classes/p/q"), 0755);
	/* Never twice. */
	ck_assert_int_eq(ft_jobdir_write_classes(topfd, cc), -1);
	ft_compiled_unref(cc);

	/* Nothing javac would write from a binary name. */
	static const char *const bad[] = { "", ".A", "A.", "p..A", "..", "../A", "p.../A", "a/b" };
	for (size_t i = 0; i < FT_ARRAY_SIZE(bad); i++) {
		cc = classes(&bad[i], 1);
		errno = 0;
		ck_assert_msg(ft_jobdir_write_classes(topfd, cc) == -1, "%s", bad[i]);
		ft_compiled_unref(cc);
	}
	ck_assert(!exists_at(topfd, "A.class"));
	ck_assert(!exists_at(topfd, "classes/A.class"));
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const char *l = longname;
	cc = classes(&l, 1);
	errno = 0;
	ck_assert_int_eq(ft_jobdir_write_classes(topfd, cc), -1);
	ck_assert_int_eq(errno, EINVAL);
	ft_compiled_unref(cc);
}
END_TEST

START_TEST(bounded_reads)
{
	size_t n = 3 * 4096 + 17, len;
	char *big = ft_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(ft_jobdir_write_file(topfd, "big", big, n), 0);

	char *s = ft_jobdir_read(topfd, "big", n + 100, &len);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(s, big, n);
	ck_assert_int_eq(s[len], '\0');
	free(s);
	s = ft_jobdir_read(topfd, "big", 5000, &len);
	ck_assert_uint_eq(len, 5000);
	ck_assert_mem_eq(s, big, 5000);
	ck_assert_int_eq(s[len], '\0');
	free(s);
	s = ft_jobdir_read(topfd, "big", 0, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_ptr_null(ft_jobdir_read(topfd, "missing", 10, &len));

	/* From the start, whatever the descriptor's offset (the child moved it). */
	int fd = openat(topfd, "big", O_RDONLY);
	ck_assert_int_eq(lseek(fd, 100, SEEK_SET), 100);
	s = ft_jobdir_read_fd(fd, 26, &len);
	ck_assert_uint_eq(len, 26);
	ck_assert_str_eq(s, "abcdefghijklmnopqrstuvwxyz");
	free(s);
	close(fd);

	s = ft_jobdir_excerpt(topfd, "big");
	ck_assert_uint_eq(strlen(s), FT_JOBDIR_EXCERPT);
	free(s);
	s = ft_jobdir_excerpt(topfd, "missing");
	ck_assert_str_eq(s, "");
	free(s);
	free(big);
}
END_TEST

static Suite *jobdir_suite(void)
{
	Suite *s = suite_create("jobdir");
	TCase *tc = tcase_create("dirs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, make_and_remove);
	tcase_add_test(tc, stale_directories);
	tcase_add_test(tc, absolute_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, files_for_the_children);
	tcase_add_test(tc, class_files);
	tcase_add_test(tc, bounded_reads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jobdir_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
