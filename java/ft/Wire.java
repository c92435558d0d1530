package ft;

/**
 * Every byte and status the Java side and the runner (C) exchange, in one place. The runner's
 * twin of this list is src/runner/javawire.h; tests/unit/check_javawire.c reads this file and
 * fails if the two lists differ in any name or value.
 *
 * <p>Two channels, each with its own names, so that no byte means two things under one name:
 * the result channel of a run ({@code RESULT_*}, file descriptor 3 of {@link Launcher}) and the
 * answers of the warm compiler ({@code COMPILER_*}, stdout of {@code Compiler --server}).
 */
final class Wire {
	/* The result channel: one tag byte, then the text (see Launcher). */
	static final char RESULT_OK = 'O';
	static final char RESULT_ERROR = 'E';
	static final char RESULT_MEMORY = 'M';
	static final char RESULT_THREADS = 'T';
	static final char RESULT_FILE = 'F';
	static final char RESULT_STARTED = 'S';
	static final char RESULT_MAIN_STARTED = 'N';
	static final char RESULT_NO_ENTRY = 'X';

	/* A pre-started JVM tells the runner it waits for its job (on its stdin socket). */
	static final char SPARE_READY = 'R';

	/* The warm compiler's answers. */
	static final char COMPILER_CLASSES = 'O';
	static final char COMPILER_ERRORS = 'C';
	static final char COMPILER_OUT_OF_MEMORY = 'M';

	/* Exit statuses. */
	static final int COMPILER_EXIT_OUT_OF_MEMORY = 3;
	static final int LAUNCHER_EXIT_NO_CHANNEL = 70;
	static final int LAUNCHER_EXIT_CHANNEL_WRITE = 71;
	static final int LAUNCHER_EXIT_NO_JOB = 72;

	/* The contract's first line of a compile error. */
	static final String COMPILE_ERROR_HEAD = "Code did not compile:";

	/*
	 * The javac flags of every compile, besides the paths of its own directory.  String "+" as
	 * StringBuilder calls, not invokedynamic: the first indy concatenation in a fresh JVM costs
	 * 20-60 ms of bootstrap, more than a whole warm run.
	 */
	static final String COMPILER_FLAGS = "-proc:none -encoding UTF-8 -nowarn -Xlint:none -implicit:none -XDstringConcat=inline";

	private Wire() {
	}
}
