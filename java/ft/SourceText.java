package ft;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A submitted source file as bytes, checked to be UTF-8 before the compiler sees it.
 *
 * <p>Why: javac, used in-process, reports bytes that are not UTF-8 ("unmappable character") but
 * still compiles the file with U+FFFD in their place, and the in-memory path would never even see
 * them (the bytes are decoded before). The javac command refuses such a file. So that the answer
 * does not depend on how the source reached the compiler, both paths refuse it the same way, as a
 * compile error in javac's words, one line per bad byte sequence (at most {@link #MAX_ERRORS}),
 * at javac's line and column (tabs expanded to multiples of 8).
 */
final class SourceText {
	static final int MAX_ERRORS = 100;
	private static final int TAB = 8;

	private SourceText() {
	}

	/**
	 * The contract's error lines ({@code Error on line L, column C in NAME: ...}, each preceded
	 * by a newline) for every byte sequence of bytes that is not UTF-8; empty if it all is.
	 */
	static String undecodable(String name, byte[] bytes) {
		CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT);
		ByteBuffer in = ByteBuffer.wrap(bytes);
		CharBuffer out = CharBuffer.allocate(4096);
		StringBuilder errors = new StringBuilder();
		int count = 0;
		long line = 1, col = 0; // col: 0-based, tabs expanded
		boolean afterCr = false;
		for (;;) {
			CoderResult r = dec.decode(in, out, true);
			out.flip();
			while (out.hasRemaining()) {
				char ch = out.get();
				if (ch == '\n' && afterCr) {
					afterCr = false;
					continue; // the second half of \r\n
				}
				afterCr = ch == '\r';
				if (ch == '\n' || ch == '\r') {
					line++;
					col = 0;
				} else if (ch == '\t') {
					col = (col / TAB + 1) * TAB;
				} else if (!Character.isLowSurrogate(ch)) {
					col++;
				}
			}
			out.clear();
			if (r.isError()) {
				int bad = bytes[in.position()] & 0xFF;
				if (count < MAX_ERRORS)
					errors.append(String.format("\nError on line %d, column %d in %s: unmappable "
							+ "character (0x%02X) for encoding UTF-8", line, col + 1, name, bad));
				count++;
				in.position(in.position() + r.length());
				col++; // javac shows one replacement character there
				afterCr = false;
			} else if (r.isUnderflow()) {
				break;
			}
		}
		return errors.toString();
	}
}
