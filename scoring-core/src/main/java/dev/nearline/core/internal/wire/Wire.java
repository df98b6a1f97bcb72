package dev.nearline.core.internal.wire;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.nearline.core.internal.Redaction;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The text rules of the wire format: how long an error message on a reply or a dead-letter may be, how
 * much of an untrusted body an error message may quote, and the one way both are cut. Stateless and
 * thread-safe.
 */
public final class Wire {
    /** Longest quote of untrusted input (a request body, a field's value) in an error message. */
    public static final int MAX_ECHO_CHARS = 120;
    /** Longest error message on a reply, in a dead-letter description or in a batch report. */
    public static final int MAX_MESSAGE_CHARS = 300;

    private static final String ELLIPSIS = "...";

    /** Reads untrusted bodies (a body with anything after its JSON value is not JSON) and writes replies. */
    static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private Wire() {
    }

    /**
     * {@code text} if it has at most {@code maxChars} characters, else its start followed by
     * {@code "..."}, {@code maxChars} characters in all. A surrogate pair is never split, so the result
     * is always valid UTF-16 (a JSON writer would refuse half a pair).
     *
     * @throws IllegalArgumentException if {@code maxChars} leaves no room for one character and the ellipsis
     */
    public static String clip(String text, int maxChars) {
        if (maxChars <= ELLIPSIS.length()) {
            throw new IllegalArgumentException("maxChars must be more than " + ELLIPSIS.length() + ", got " + maxChars);
        }
        if (text.length() <= maxChars) {
            return text;
        }
        int end = maxChars - ELLIPSIS.length();
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + ELLIPSIS;
    }

    /**
     * The description of a failure as it goes on a reply ({@code error.message}) and on a dead-letter:
     * its message, clipped to {@link #MAX_MESSAGE_CHARS}; {@code "null"} for a failure without one.
     */
    public static String errorDescription(@Nullable String message) {
        return clip(String.valueOf(message), MAX_MESSAGE_CHARS);
    }

    /**
     * A one-line reason why a body is not valid JSON, with where the parser stopped, for example
     * {@code unexpected end of input at line 1, column 12}: the parser's first message line, or for input
     * that ends too soon (chosen by the exception's type, not its text) a fixed phrase, since the parser's
     * phrase then carries a second location. A token the parser quotes is not shown.
     */
    public static String jsonError(IOException e) {
        String what;
        if (e instanceof JsonEOFException) {
            what = "unexpected end of input";
        } else {
            String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            // Bodies are records and labels: the parser's quote of a token is their text, possibly personal data.
            what = Redaction.parserReason(firstLine(String.valueOf(m)));
        }
        if (e instanceof JsonProcessingException j) {
            JsonLocation at = j.getLocation();
            if (at != null && at.getLineNr() > 0) {
                what += " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            }
        }
        return clip(what, MAX_MESSAGE_CHARS);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
