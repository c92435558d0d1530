/* Every byte and status the runner and the Java side (java/ft/) exchange.
 * java/ft/Wire.java is the twin of this list; tests/unit/check_javawire.c
 * fails if they differ.  The result channel of a run (FT_WIRE_RESULT_*)
 * and the warm compiler's answers (FT_WIRE_COMPILER_*) have names of their
 * own: the same byte may mean different things on the two. */
#ifndef FT_JAVAWIRE_H
#define FT_JAVAWIRE_H

#include "job/verdict.h"

/* The result channel (ft.Launcher, fd 3, a pipe): the mark that the
 * program started (FT_WIRE_RESULT_STARTED / _MAIN_STARTED), if it got that
 * far, then the outcome: one tag byte, then the text. */
#define FT_WIRE_RESULT_OK 'O'	   /* run() returned; the rest is the string */
#define FT_WIRE_RESULT_ERROR 'E'   /* an exception or a contract violation */
#define FT_WIRE_RESULT_MEMORY 'M'  /* OutOfMemoryError (heap, metaspace, ...) */
#define FT_WIRE_RESULT_THREADS 'T' /* OutOfMemoryError: unable to create native thread */
#define FT_WIRE_RESULT_FILE 'F'	   /* IOException: file too large / no space left */
/* Written just before the program's code can first run, the outcome after
 * it: alone, the program ended the JVM before run() returned. */
#define FT_WIRE_RESULT_STARTED 'S'
/* The same for a main(String[]) program: alone, the program ended (main
 * returned, or System.exit), and its exit status is the outcome. */
#define FT_WIRE_RESULT_MAIN_STARTED 'N'
/* The class offers no entry point the run can use (no run() or main, no
 * no-arg constructor, not loadable): a contract violation, before any of
 * the program ran. */
#define FT_WIRE_RESULT_NO_ENTRY 'X'

/* A pre-started JVM waits for its job (one byte on its stdin socket). */
#define FT_WIRE_SPARE_READY 'R'

/* The compiler answers on its stdout (ft.Compiler --server, once per job;
 * a cold ft.Compiler, once). */
#define FT_WIRE_COMPILER_CLASSES 'O'	   /* u32 count, then (u32 len, name, u32 len, bytes)* */
#define FT_WIRE_COMPILER_ERRORS 'C'	   /* u32 len, the compile error body */
#define FT_WIRE_COMPILER_OUT_OF_MEMORY 'M' /* then it exits */

/* Exit statuses of the Java side. */
#define FT_WIRE_COMPILER_EXIT_OUT_OF_MEMORY 3
#define FT_WIRE_LAUNCHER_EXIT_NO_CHANNEL 70
#define FT_WIRE_LAUNCHER_EXIT_CHANNEL_WRITE 71
#define FT_WIRE_LAUNCHER_EXIT_NO_JOB 72

/* The contract's first line of a compile error. */
#define FT_WIRE_COMPILE_ERROR_HEAD FT_COMPILE_ERROR_HEAD

/* The javac flags every compile gets, besides the paths of its own
 * directory (GET /v1/runtimes tells them; the class cache's key depends on
 * them).  -XDstringConcat=inline: string "+" as StringBuilder calls, since
 * the first invokedynamic concatenation of a fresh JVM costs 20-60 ms. */
#define FT_WIRE_COMPILER_FLAGS \
	"-proc:none -encoding UTF-8 -nowarn -Xlint:none -implicit:none -XDstringConcat=inline"

#endif
