package ft;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.SimpleJavaFileObject;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles a submission (one or several source files) with the JDK's in-process compiler.
 *
 * <p>One-shot use: {@code java -cp ftcluster.jar ft.Compiler SRC_FILE...} (the first file is the
 * main one). Exit status 0: stdout holds the answer, in the server's format (below): the class
 * files, or the contract's error body ({@code Code did not compile:} then one {@code Error on line
 * L, column C in Name.java: message} line per error). Nothing is written to disk: the runner writes
 * the classes where the run needs them. Exit status 2: the compiler itself could not be used
 * (details on stderr); that is an internal error, not the user's. Exit status 3: the compiler ran
 * out of memory (the memory limit; not a property of the source alone, so not a compile error).
 *
 * <p>All compile logic is in {@link #compileInMemory}, on an instance that keeps the compiler and
 * its file manager, so the long-lived "server mode" that reads jobs from stdin only needs a loop
 * around it.
 */
public final class Compiler {
	public static final String HEADER = Wire.COMPILE_ERROR_HEAD;

	/** Outcome of one compilation: ok, or the error body to hand to the user. */
	public static final class Result {
		public final boolean ok;
		public final String body;

		Result(boolean ok, String body) {
			this.ok = ok;
			this.body = body;
		}
	}

	private final JavaCompiler javac;
	private final StandardJavaFileManager files;

	public Compiler() {
		javac = ToolProvider.getSystemJavaCompiler();
		if (javac == null)
			throw new IllegalStateException("no system Java compiler (is this a JRE, not a JDK?)");
		files = javac.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8);
	}

	static String formatErrors(List<Diagnostic<? extends JavaFileObject>> diags, String fileName) {
		StringBuilder sb = new StringBuilder(HEADER);
		int errors = 0;
		for (Diagnostic<? extends JavaFileObject> d : diags) {
			if (d.getKind() != Diagnostic.Kind.ERROR)
				continue;
			errors++;
			sb.append("\nError on line ").append(position(d.getLineNumber()))
					.append(", column ").append(position(d.getColumnNumber()))
					.append(" in ").append(sourceName(d, fileName)).append(": ")
					.append(oneLine(d.getMessage(Locale.ROOT)));
		}
		if (errors == 0)
			sb.append("\nThe compiler reported failure without an error message");
		return sb.toString();
	}

	/** Diagnostic.NOPOS (-1) for errors not tied to a place; 0 reads better than -1. */
	private static long position(long p) {
		return p < 0 ? 0 : p;
	}

	private static String sourceName(Diagnostic<? extends JavaFileObject> d, String fallback) {
		JavaFileObject src = d.getSource();
		if (src == null)
			return fallback;
		String name = src.getName();
		int slash = name.lastIndexOf(File.separatorChar);
		return slash >= 0 ? name.substring(slash + 1) : name;
	}

	/**
	 * javac's messages span lines ("cannot find symbol\n  symbol: ...\n  location: ..."); the
	 * contract wants one line per diagnostic, so line breaks and their indentation become one
	 * space.
	 */
	static String oneLine(String msg) {
		if (msg == null)
			return "";
		return msg.strip().replaceAll("\\s*\\R\\s*", " ");
	}

	/* ---- server mode: java ft.Compiler --server ---- */

	private static final int MAX_NAME = 4096;
	private static final int WARMUP_COMPILES = 40;
	private static final long WARMUP_NANOS = 3_000_000_000L;
	private static final int MAX_SOURCE = 64 << 20;
	private static final int MAX_FILES = 1 << 16;

	/** A source held in memory; its name is what diagnostics show. */
	private static final class MemSource extends SimpleJavaFileObject {
		private final String text;

		MemSource(String fileName, String text) {
			super(URI.create("mem:///" + fileName), Kind.SOURCE);
			this.text = text;
		}

		@Override
		public CharSequence getCharContent(boolean ignoreEncodingErrors) {
			return text;
		}
	}

	/** A class file kept in memory. */
	private static final class MemClass extends SimpleJavaFileObject {
		final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

		MemClass(String binaryName) {
			super(URI.create("mem:///" + binaryName.replace('.', '/') + ".class"), Kind.CLASS);
		}

		@Override
		public OutputStream openOutputStream() {
			return bytes;
		}
	}

	/** Class output goes to memory; nothing is ever written to disk. */
	private static final class MemFiles extends ForwardingJavaFileManager<StandardJavaFileManager> {
		final Map<String, MemClass> out = new LinkedHashMap<>();

		MemFiles(StandardJavaFileManager m) {
			super(m);
		}

		@Override
		public JavaFileObject getJavaFileForOutput(Location location, String className,
				JavaFileObject.Kind kind, FileObject sibling) throws IOException {
			if (kind != JavaFileObject.Kind.CLASS)
				throw new IOException("unexpected output " + className + " " + kind);
			MemClass c = new MemClass(className);
			out.put(className, c);
			return c;
		}
	}

	/**
	 * Outcome of an in-memory compile of sources (file name to text, the main file first): error
	 * body, or the class files by binary name.
	 */
	/** javac's options: the fixed flags (Wire.COMPILER_FLAGS), then these paths. */
	private static List<String> withFlags(String... paths) {
		List<String> o = new ArrayList<>(Arrays.asList(Wire.COMPILER_FLAGS.split(" ")));
		o.addAll(Arrays.asList(paths));
		return o;
	}

	Result compileInMemory(Map<String, String> sources, Map<String, byte[]> classes, Path emptyDir) {
		DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
		List<String> options = withFlags("-classpath", emptyDir.toString(), "-sourcepath",
				emptyDir.toString());
		MemFiles mf = new MemFiles(files);
		StringWriter chatter = new StringWriter();
		List<JavaFileObject> units = new ArrayList<>();
		for (Map.Entry<String, String> e : sources.entrySet())
			units.add(new MemSource(e.getKey(), e.getValue()));
		String fileName = sources.keySet().iterator().next();
		boolean ok;
		try {
			ok = javac.getTask(chatter, mf, diags, options, null, units).call();
		} catch (OutOfMemoryError e) {
			throw e;
		} catch (RuntimeException | Error e) {
			return new Result(false, HEADER + "\nThe compiler failed on this code: " + e);
		}
		if (!ok)
			return new Result(false, formatErrors(diags.getDiagnostics(), fileName));
		for (Map.Entry<String, MemClass> e : mf.out.entrySet())
			classes.put(e.getKey(), e.getValue().bytes.toByteArray());
		return new Result(true, "");
	}

	/**
	 * Jobs on stdin: u32 file count, then per file u32 name length, file name (UTF-8), u32 source
	 * length, source (UTF-8); the first file is the main one.
	 * Answers on stdout: 'O', u32 count, then per class u32 name length, binary name, u32
	 * length, bytes; or 'C', u32 length, the error body; or 'M' (out of memory: the JVM then
	 * exits). All integers big-endian. EOF on stdin ends the server.
	 */
	private static void serve() throws IOException {
		DataInputStream in = new DataInputStream(
				new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16));
		DataOutputStream out = new DataOutputStream(
				new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
		Path empty = Files.createTempDirectory("ftc");
		Compiler c = new Compiler();
		/*
		 * Warm up before taking jobs: the first compiles load javac and JIT its hot paths
		 * (a few dozen compiles take one from ~500 ms to ~15 ms). Bounded in time.
		 */
		long until = System.nanoTime() + WARMUP_NANOS;
		for (int i = 0; i < WARMUP_COMPILES && System.nanoTime() < until; i++) {
			c.compileInMemory(Map.of("Warm.java", "import java.util.*;\npublic class Warm {\n"
					+ " private final List<String> l = new ArrayList<>();\n"
					+ " public String run() { StringBuilder b = new StringBuilder();\n"
					+ "  for (int k = 0; k < " + i + "; k++) b.append(k);\n"
					+ "  return b.toString() + l.size(); } }"), new LinkedHashMap<>(), empty);
			if (i % 8 == 7)
				c.compileInMemory(Map.of("Warm.java", "public class Warm { int x = ; }"),
						new LinkedHashMap<>(), empty);
		}
		// Give back the warm-up's garbage: the server idles most of its life.
		System.gc();
		for (;;) {
			Map<String, String> sources = new LinkedHashMap<>();
			StringBuilder undecodable = new StringBuilder();
			try {
				int n = in.readInt();
				if (n < 1 || n > MAX_FILES)
					throw new IOException("bad file count " + n);
				for (int i = 0; i < n; i++) {
					String name = new String(readBytes(in, MAX_NAME), StandardCharsets.UTF_8);
					byte[] src = readBytes(in, MAX_SOURCE);
					undecodable.append(SourceText.undecodable(name, src));
					sources.put(name, new String(src, StandardCharsets.UTF_8));
				}
			} catch (EOFException e) {
				return;
			}
			Map<String, byte[]> classes = new LinkedHashMap<>();
			Result r;
			try {
				r = undecodable.length() > 0 ? new Result(false, HEADER + undecodable)
						: c.compileInMemory(sources, classes, empty);
			} catch (OutOfMemoryError e) {
				classes = null;
				try {
					out.writeByte(Wire.COMPILER_OUT_OF_MEMORY);
					out.flush();
				} finally {
					Runtime.getRuntime().halt(Wire.COMPILER_EXIT_OUT_OF_MEMORY);
				}
				return;
			}
			writeAnswer(out, r, classes);
			out.flush();
		}
	}

	/** One answer of the protocol: the classes, or the error body. */
	private static void writeAnswer(DataOutputStream out, Result r, Map<String, byte[]> classes)
			throws IOException {
		if (r.ok) {
			out.writeByte(Wire.COMPILER_CLASSES);
			out.writeInt(classes.size());
			for (Map.Entry<String, byte[]> e : classes.entrySet()) {
				byte[] n = e.getKey().getBytes(StandardCharsets.UTF_8);
				out.writeInt(n.length);
				out.write(n);
				out.writeInt(e.getValue().length);
				out.write(e.getValue());
			}
		} else {
			byte[] b = r.body.getBytes(StandardCharsets.UTF_8);
			out.writeByte(Wire.COMPILER_ERRORS);
			out.writeInt(b.length);
			out.write(b);
		}
	}

	private static byte[] readBytes(DataInputStream in, int max) throws IOException {
		int n = in.readInt();
		if (n < 0 || n > max)
			throw new IOException("bad length " + n);
		byte[] b = new byte[n];
		in.readFully(b);
		return b;
	}

	public static void main(String[] args) {
		try {
			if (args.length == 1 && args[0].equals("--server")) {
				try {
					serve();
				} catch (IOException e) {
					e.printStackTrace();
					Runtime.getRuntime().halt(2);
				}
				Runtime.getRuntime().halt(0);
			}
			compileMain(args);
		} catch (OutOfMemoryError e) {
			// halt: exiting normally could need memory there is none of.
			Runtime.getRuntime().halt(Wire.COMPILER_EXIT_OUT_OF_MEMORY);
		}
	}


	private static void compileMain(String[] args) {
		if (args.length < 1) {
			System.err.println("usage: java ft.Compiler SRC_FILE... (the answer on stdout)");
			System.exit(2);
		}
		Map<String, String> sources = new LinkedHashMap<>();
		StringBuilder undecodable = new StringBuilder();
		for (String a : args) {
			Path p = Paths.get(a);
			String name = p.getFileName().toString();
			try {
				byte[] src = Files.readAllBytes(p);
				undecodable.append(SourceText.undecodable(name, src));
				sources.put(name, new String(src, StandardCharsets.UTF_8));
			} catch (IOException e) {
				e.printStackTrace();
				System.exit(2);
			}
		}
		Map<String, byte[]> classes = new LinkedHashMap<>();
		Result r;
		try {
			r = undecodable.length() > 0 ? new Result(false, HEADER + undecodable)
					: new Compiler().compileInMemory(sources, classes,
							Files.createTempDirectory("ftc"));
		} catch (RuntimeException | IOException e) {
			e.printStackTrace();
			System.exit(2);
			return;
		}
		DataOutputStream out = new DataOutputStream(
				new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
		try {
			writeAnswer(out, r, classes);
			out.flush();
		} catch (IOException e) {
			System.err.println("ft.Compiler: could not write the answer: " + e);
			System.exit(2);
		}
		System.exit(0);
	}

	/** Releases the file manager's open archives; for a server mode that shuts down cleanly. */
	public void close() throws IOException {
		files.close();
	}
}
