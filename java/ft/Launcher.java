package ft;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Runs one compiled submission: {@code java -cp ftcluster.jar:JOB_CLASSES ft.Launcher pkg.Name}.
 *
 * <p>Creates an instance with the no-arg constructor, calls {@code public String run()} and writes
 * the outcome to file descriptor 3, the result channel, because stdout belongs to the user's code.
 * Channel format: one tag byte, then UTF-8 bytes: the string run() returned, or the full error body
 * of the contract (message line, newline, detail). A {@code null} from run() is an ok answer, the
 * string {@code "null"} (what string concatenation would print). Tags:
 * <ul>
 * <li>{@code 'O'} run() returned;
 * <li>{@code 'E'} an exception or a contract violation;
 * <li>{@code 'M'} an OutOfMemoryError (heap, metaspace, direct memory...): the memory limit;
 * <li>{@code 'T'} OutOfMemoryError "unable to create native thread": the process limit;
 * <li>{@code 'F'} an IOException "File too large" (EFBIG) or "No space left on device"
 * (ENOSPC): the file size limit or the sandbox's /tmp.
 * </ul>
 * The runner describes the limits itself; the detail after the tag is the program's exception.
 *
 * <p>{@code java ... ft.Launcher -} reads the class name as one line from stdin instead: a JVM can
 * be started (and this class loaded) before the job is known, and handed the job later.
 *
 * <p>The channel is a pipe the runner drains (never a file: nothing goes to the node's disk), so
 * it is only ever appended to. Just before the program's code can first run, one byte {@code 'S'}
 * goes on it (for a main program {@code 'N'}); the outcome follows it. So an empty channel means
 * the JVM failed before any of the program ran (the node's fault: the runner tries elsewhere), and
 * the mark alone that the program ended the JVM before run() returned (System.exit, a crash, a
 * kill), which the runner reports from the exit status. Exit status 0 whenever the outcome was
 * written.
 *
 * <p>Leniencies, since the contract only names a "no-arg constructor" and "public String run()":
 * the constructor may have any access, and a static run() is accepted too.
 *
 * <p>Beyond the contract (the JSON API): a file {@code input} in the working directory becomes
 * {@code System.in}; a file {@code args} (arguments, each ending in a NUL byte) is passed to
 * {@code public String run(String[] args)}, which is called in preference to {@code run()} when
 * the class has it (with no arguments, an empty array). Arguments for a class that has only
 * {@code run()} are an error, not silently dropped.
 */
public final class Launcher {
	private static final int MAX_JOB_LINE = 4096;
	private static final String INPUT_FILE = "input";
	private static final String ARGS_FILE = "args";
	private static final String ENTRY_FILE = "entry";

	/** How the class is run (the runner's enum ft_entry; the file "entry" names it). */
	enum Mode {
		/** run(String[]) if the class has it, else run(): the contract's. */
		RUN,
		/** The same, else public static void main(String[]). */
		AUTO,
		/** main(String[]) only. */
		MAIN
	}

	/** What goes on the channel. */
	private static final class Outcome {
		final char tag;
		final String text;
		/** A main program's (its JVM then exits with status 1). */
		boolean afterMark;
		/** main returned: nothing to write, the status is 0. */
		boolean mainReturned;

		Outcome(char tag, String text) {
			this.tag = tag;
			this.text = text;
		}

		/** The class offers no entry point this run can use: nothing of it ran. */
		static Outcome noEntry(String message, String detail) {
			// No second line that only says the first again.
			return new Outcome(Wire.RESULT_NO_ENTRY, detail == null ? message : message + "\n" + detail);
		}

		static Outcome error(String message, String detail) {
			return new Outcome(Wire.RESULT_ERROR, message + "\n" + detail);
		}

		/** An exception from the program's code: tagged by what it says about the limits. */
		static Outcome thrown(String message, Throwable t) {
			return new Outcome(tagFor(t), message + "\n" + trace(t));
		}
	}

	/** Run once by a JVM started ahead of its job, so the job does not pay for first use. */
	public static final class Warmup {
		public String run() {
			return "warm";
		}
	}

	/** The channel tag for an exception that ended the program (see the class comment). */
	static char tagFor(Throwable top) {
		Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
		for (Throwable t = top; t != null && seen.add(t); t = t.getCause()) {
			if (t instanceof OutOfMemoryError) {
				String m = String.valueOf(t.getMessage());
				return m.contains("unable to create native thread") ? Wire.RESULT_THREADS : Wire.RESULT_MEMORY;
			}
			if (t instanceof IOException) {
				String m = String.valueOf(t.getMessage());
				if (m.contains("File too large") || m.contains("No space left on device"))
					return Wire.RESULT_FILE;
			}
		}
		return Wire.RESULT_ERROR;
	}

	/** One line from stdin, the class name, read byte by byte (no buffering beyond it). */
	private static String readJob() {
		byte[] buf = new byte[MAX_JOB_LINE];
		int n = 0;
		// Unbuffered: System.in would read ahead of the line.
		InputStream in = new FileInputStream(FileDescriptor.in);
		try {
			int c;
			while ((c = in.read()) >= 0 && c != '\n') {
				if (n == buf.length)
					return null;
				buf[n++] = (byte) c;
			}
		} catch (IOException e) {
			return null;
		}
		return n == 0 ? null : new String(buf, 0, n, StandardCharsets.UTF_8).strip();
	}

	/**
	 * Started ahead of its job: stdin is then a socket to the runner, which learns from one byte
	 * 'R' that this JVM is ready and prefers it over one still starting. Best effort: on a pipe
	 * the write fails and the runner just does not know.
	 */
	private static void signalReady() {
		try {
			FileOutputStream o = new FileOutputStream(FileDescriptor.in);
			o.write(Wire.SPARE_READY);
			o.flush();
		} catch (IOException e) {
			// not a socket: nothing to tell
		}
	}

	private Launcher() {
	}

	public static void main(String[] args) {
		/* Opened before any user code runs, so nothing the program does to the file
		 * descriptor table can take the channel away from us. */
		FileOutputStream chan;
		try {
			chan = new FileOutputStream("/proc/self/fd/3", true);
		} catch (IOException e) {
			System.err.println("ft.Launcher: no result channel on fd 3: " + e);
			Runtime.getRuntime().halt(Wire.LAUNCHER_EXIT_NO_CHANNEL);
			return;
		}
		if (args.length != 1) {
			System.err.println("usage: java ft.Launcher CLASS_NAME|- (result on fd 3)");
			Runtime.getRuntime().halt(2);
		}
		String name = args[0];
		if (name.equals("-")) {
			// Started ahead of its job: do the first-use work of the reflective path now.
			launch(Warmup.class.getName(), null, Mode.RUN, null);
			findMain(Warmup.class);
			signalReady();
			name = readJob();
			if (name == null) {
				System.err.println("ft.Launcher: no class name on stdin");
				Runtime.getRuntime().halt(Wire.LAUNCHER_EXIT_NO_JOB);
			}
		}
		String[] runArgs;
		Mode mode;
		try {
			runArgs = readArgs();
			mode = readMode();
			redirectInput();
		} catch (IOException e) {
			System.err.println("ft.Launcher: cannot read the job's input or arguments: " + e);
			Runtime.getRuntime().halt(Wire.LAUNCHER_EXIT_NO_JOB);
			return;
		}
		Outcome o;
		try {
			o = launch(name, runArgs, mode, chan);
		} catch (OutOfMemoryError e) {
			// Out of memory while building the outcome itself: no room for a stack trace.
			o = new Outcome(Wire.RESULT_MEMORY, "Exception thrown by the program:\n"
					+ "java.lang.OutOfMemoryError: " + e.getMessage());
			o.afterMark = markedMain;
		}
		flushQuietly();
		/* halt, not exit: threads the program left running, or its shutdown hooks, must not
		 * keep the JVM (and the job) alive once the answer is known. */
		if (o.mainReturned)
			Runtime.getRuntime().halt(0);
		byte[] text = o.text.getBytes(StandardCharsets.UTF_8);
		byte[] msg = new byte[text.length + 1];
		msg[0] = (byte) o.tag;
		System.arraycopy(text, 0, msg, 1, text.length);
		try {
			chan.write(msg);
			chan.close();
		} catch (IOException e) {
			// The runner closed its end: it killed the run (an answer over the output
			// limit) or is going away.
			System.err.println("ft.Launcher: writing the result failed: " + e);
			Runtime.getRuntime().halt(Wire.LAUNCHER_EXIT_CHANNEL_WRITE);
		}
		// A main program that threw ends as `java Main` would: status 1.
		Runtime.getRuntime().halt(o.afterMark ? 1 : 0);
	}

	/** Whether the mark written was a main program's (for an outcome built in a hurry). */
	private static boolean markedMain;

	/**
	 * The program's code may run from here on: an empty channel tells the runner that the JVM
	 * failed before this point, which no program can cause. chan null: a warm-up, no channel.
	 */
	private static void mark(FileOutputStream chan, char tag) {
		if (chan == null)
			return;
		markedMain = tag == Wire.RESULT_MAIN_STARTED;
		try {
			chan.write(tag);
		} catch (IOException e) {
			System.err.println("ft.Launcher: writing the result channel failed: " + e);
			Runtime.getRuntime().halt(Wire.LAUNCHER_EXIT_CHANNEL_WRITE);
		}
	}

	/** The job's entry mode (file "entry"), RUN when it has none. */
	private static Mode readMode() throws IOException {
		File f = new File(ENTRY_FILE);
		if (!f.isFile())
			return Mode.RUN;
		String m;
		try (FileInputStream in = new FileInputStream(f)) {
			m = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
		}
		if (m.equals("auto"))
			return Mode.AUTO;
		if (m.equals("main"))
			return Mode.MAIN;
		if (m.equals("run"))
			return Mode.RUN;
		throw new IOException("unknown entry \"" + m + "\"");
	}

	/*
	 * java.io, not java.nio.file: a fresh JVM has loaded it already, and every class loaded on this
	 * path is start-up time of every run. The files are the runner's, written before any user code
	 * ran in this JVM.
	 */

	/** The job's arguments, or null when it has none (no args file). */
	private static String[] readArgs() throws IOException {
		File f = new File(ARGS_FILE);
		if (!f.isFile())
			return null;
		String all;
		try (FileInputStream in = new FileInputStream(f)) {
			all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		if (all.isEmpty())
			return new String[0];
		// Every argument ends in NUL: split before the last one.
		return all.substring(0, all.length() - 1).split("\0", -1);
	}

	private static void redirectInput() throws IOException {
		File f = new File(INPUT_FILE);
		if (f.isFile())
			System.setIn(new BufferedInputStream(new FileInputStream(f)));
	}

	/** Runs class name; args null: the job gave no arguments. */
	static Outcome launch(String name, String[] args, Mode mode, FileOutputStream chan) {
		Class<?> cls;
		try {
			cls = Class.forName(name, false, Launcher.class.getClassLoader());
		} catch (ClassNotFoundException | LinkageError e) {
			return Outcome.noEntry("Class " + name + " could not be loaded", e.toString());
		}
		String simple = cls.getSimpleName();
		Method main = mode == Mode.RUN ? null : findMain(cls);
		if (mode == Mode.MAIN || (mode == Mode.AUTO && main != null && findRunWithArgs(cls) == null
				&& findRun(cls) == null)) {
			if (main == null)
				return Outcome.noEntry("No public static void main(String[] args) method in class "
						+ simple, explainMissingMain(cls));
			return launchMain(main, args, chan);
		}
		if (mode == Mode.AUTO && findRunWithArgs(cls) == null && findRun(cls) == null)
			return Outcome.noEntry("No entry point in class " + simple,
					"It needs public String run(), public String run(String[] args) or public "
							+ "static void main(String[] args)");
		if (cls.isInterface() || cls.isEnum() || Modifier.isAbstract(cls.getModifiers()))
			return Outcome.noEntry("Cannot create an instance of class " + simple,
					"It is an interface, an enum or an abstract class");

		Method runArgs = findRunWithArgs(cls);
		Method run = runArgs != null ? runArgs : findRun(cls);
		String missing = run == null ? explainMissingRun(cls) : null;
		if (run == null && args != null && args.length > 0)
			return Outcome.noEntry("No public String run(String[] args) method in class " + simple,
					"The run has " + args.length + " argument(s); they are passed to "
							+ "run(String[] args) only." + (missing == null ? "" : " " + missing));
		if (run == null)
			return Outcome.noEntry("No public String run() method in class " + simple, missing);
		if (run.getReturnType() != String.class)
			return Outcome.noEntry("No public String run() method in class " + simple,
					"run() returns " + run.getReturnType().getTypeName() + ", not String");
		if (runArgs == null && args != null && args.length > 0)
			return Outcome.noEntry("No public String run(String[] args) method in class " + simple,
					"The run has " + args.length + " argument(s), but class " + simple
							+ " has only run(), which takes none");

		Constructor<?> ctor;
		try {
			ctor = cls.getDeclaredConstructor();
			ctor.setAccessible(true);
		} catch (NoSuchMethodException e) {
			return Outcome.noEntry("No no-arg constructor in class " + simple,
					"Every constructor of " + simple + " takes arguments");
		} catch (RuntimeException e) {
			return Outcome.noEntry("Cannot use the no-arg constructor of class " + simple, e.toString());
		}

		mark(chan, Wire.RESULT_STARTED);
		Object instance;
		try {
			instance = ctor.newInstance();
		} catch (InvocationTargetException e) {
			return Outcome.thrown("Exception thrown by the constructor of " + simple + ":",
					e.getCause());
		} catch (ExceptionInInitializerError e) {
			Throwable cause = e.getCause() != null ? e.getCause() : e;
			return Outcome.thrown("Exception thrown by the static initializer of " + simple + ":",
					cause);
		} catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
			return Outcome.error("Cannot create an instance of class " + simple, e.toString());
		}

		Object result;
		try {
			run.setAccessible(true); // public run() inherited from a package-private class
			result = runArgs != null
					? run.invoke(instance, (Object) (args != null ? args : new String[0]))
					: run.invoke(instance);
		} catch (InvocationTargetException e) {
			return Outcome.thrown("Exception thrown by run():", e.getCause());
		} catch (ReflectiveOperationException | RuntimeException e) {
			return Outcome.error("Cannot call run() of class " + simple, e.toString());
		}
		return new Outcome(Wire.RESULT_OK, String.valueOf(result));
	}

	/** main(args) as `java Main args` runs it: its outcome is its exit status. */
	private static Outcome launchMain(Method main, String[] args, FileOutputStream chan) {
		mark(chan, Wire.RESULT_MAIN_STARTED);
		Outcome o;
		try {
			main.setAccessible(true); // public main of a class that is not
			main.invoke(null, (Object) (args != null ? args : new String[0]));
			o = new Outcome(Wire.RESULT_OK, "");
			o.mainReturned = true;
			return o;
		} catch (InvocationTargetException e) {
			Throwable t = e.getCause();
			String trace = trace(t);
			// As the JVM prints it when main throws.
			System.err.println("Exception in thread \"main\" " + trace);
			o = new Outcome(tagFor(t), "Exception thrown by main():\n" + trace);
		} catch (ExceptionInInitializerError e) {
			Throwable cause = e.getCause() != null ? e.getCause() : e;
			o = Outcome.thrown("Exception thrown by the static initializer of "
					+ main.getDeclaringClass().getSimpleName() + ":", cause);
		} catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
			o = Outcome.error("Cannot call main() of class " + main.getDeclaringClass().getSimpleName(),
					e.toString());
		}
		o.afterMark = true;
		return o;
	}

	/**
	 * The public static void main(String[]), declared or inherited; null if none. A scan, as for
	 * run(String[]).
	 */
	static Method findMain(Class<?> cls) {
		for (Method m : cls.getMethods()) {
			Class<?>[] p = m.getParameterTypes();
			if (m.getName().equals("main") && p.length == 1 && p[0] == String[].class
					&& m.getReturnType() == void.class && Modifier.isStatic(m.getModifiers()))
				return m;
		}
		return null;
	}

	private static String explainMissingMain(Class<?> cls) {
		for (Method m : cls.getDeclaredMethods()) {
			if (m.getName().equals("main"))
				return "main is declared as " + m.toGenericString()
						+ "; it must be public static void main(String[] args)";
		}
		return null;
	}

	/** The public no-parameter run(), declared or inherited; null if there is none. */
	private static Method findRun(Class<?> cls) {
		try {
			return cls.getMethod("run");
		} catch (NoSuchMethodException e) {
			return null;
		}
	}

	/**
	 * The public run(String[]) returning String, declared or inherited; null if none. A scan, not
	 * getMethod: its NoSuchMethodException, for the usual class without one, builds its message
	 * with streams and lambdas, whose first use costs a fresh JVM tens of milliseconds of CPU.
	 */
	private static Method findRunWithArgs(Class<?> cls) {
		for (Method m : cls.getMethods()) {
			Class<?>[] p = m.getParameterTypes();
			if (m.getName().equals("run") && p.length == 1 && p[0] == String[].class
					&& m.getReturnType() == String.class)
				return m;
		}
		return null;
	}

	private static String explainMissingRun(Class<?> cls) {
		for (Class<?> c = cls; c != null && c != Object.class; c = c.getSuperclass()) {
			try {
				Method m = c.getDeclaredMethod("run");
				return "run() in " + c.getSimpleName() + " is " + access(m.getModifiers())
						+ "; it must be public";
			} catch (NoSuchMethodException e) {
				// keep looking in the superclass
			}
		}
		for (Method m : cls.getMethods()) {
			if (m.getName().equals("run"))
				return "run must take no arguments, found " + m.toGenericString();
		}
		if (findMain(cls) != null)
			return "It has public static void main(String[] args), which POST /v1/runs runs "
					+ "(\"entry\": \"auto\" or \"main\")";
		return null;
	}

	private static String access(int mod) {
		if (Modifier.isPrivate(mod))
			return "private";
		if (Modifier.isProtected(mod))
			return "protected";
		return "package-private";
	}

	/**
	 * The stack trace as printStackTrace prints it, without the reflection and launcher frames
	 * below the user's own (in the exception and all its causes, so the "... n more" lines stay
	 * consistent), and without the final line break.
	 */
	static String trace(Throwable t) {
		if (t == null)
			return "(no exception object)";
		try {
			trimLauncherFrames(t);
			StringWriter sw = new StringWriter();
			PrintWriter pw = new PrintWriter(sw);
			t.printStackTrace(pw);
			pw.flush();
			String s = sw.toString();
			String nl = System.lineSeparator();
			return s.endsWith(nl) ? s.substring(0, s.length() - nl.length()) : s;
		} catch (Throwable e) {
			// User exception classes can override toString() and friends with anything.
			return t.getClass().getName() + " (its stack trace could not be printed: "
					+ e.getClass().getName() + ")";
		}
	}

	private static void trimLauncherFrames(Throwable top) {
		Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
		Deque<Throwable> todo = new ArrayDeque<>();
		todo.add(top);
		while (!todo.isEmpty()) {
			Throwable t = todo.remove();
			if (!seen.add(t))
				continue;
			StackTraceElement[] st = t.getStackTrace();
			int n = st.length;
			while (n > 0 && isLauncherFrame(st[n - 1]))
				n--;
			if (n > 0 && n < st.length)
				t.setStackTrace(Arrays.copyOf(st, n));
			if (t.getCause() != null)
				todo.add(t.getCause());
			todo.addAll(Arrays.asList(t.getSuppressed()));
		}
	}

	private static boolean isLauncherFrame(StackTraceElement e) {
		String c = e.getClassName();
		return c.equals(Launcher.class.getName()) || c.startsWith(Launcher.class.getName() + "$")
				|| c.startsWith("jdk.internal.reflect.") || c.startsWith("sun.reflect.")
				|| c.equals("java.lang.reflect.Method") || c.equals("java.lang.reflect.Constructor");
	}

	private static void flushQuietly() {
		try {
			System.out.flush();
			System.err.flush();
		} catch (RuntimeException e) {
			// The program may have replaced System.out with something odd; its output is not
			// part of the answer anyway.
		}
	}
}
