package dev.nearline.core.internal.wire;

import dev.nearline.api.ScoringException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A claim check: the reference a queued message carries instead of a payload too large for the broker,
 * {@code blob://<container>/<name>}, naming a blob in the payload store's storage account. A request carries
 * it as {@value #RECORD_REF} in place of {@code record}; a reply as {@value #OUTPUT_REF} in place of
 * {@code output}. The blob holds the JSON value itself (the record, the output), UTF-8.
 *
 * <p>Container names follow Azure's rules (3 to 63 lower-case letters, digits and single {@code -});
 * names are 1 to 1024 characters of letters, digits and {@code ._-/}, without empty, {@code .} or {@code ..}
 * segments.
 * A reference never carries an account, a query string or a SAS token: the host reads and writes with its
 * own credential. Immutable.
 *
 * @param container the blob container
 * @param name      the blob's name in the container
 */
public record PayloadRef(String container, String name) {
    /** Scheme of every reference. */
    public static final String SCHEME = "blob://";
    /** Request member holding the reference to the record. */
    public static final String RECORD_REF = "recordRef";
    /** Reply member holding the reference to the output. */
    public static final String OUTPUT_REF = "outputRef";
    /** Prefix of the names of reply blobs the hosts write. */
    public static final String REPLY_PREFIX = "replies/";

    private static final Pattern CONTAINER = Pattern.compile("[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
    private static final int MAX_NAME = 1024;

    /** Checks both parts. */
    public PayloadRef {
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(name, "name");
        if (!validContainer(container)) {
            throw new IllegalArgumentException("container must be 3 to 63 lower-case letters, digits and single '-', got '"
                    + Wire.clip(container, Wire.MAX_ECHO_CHARS) + "'");
        }
        if (!validName(name)) {
            throw new IllegalArgumentException("blob name must be 1 to " + MAX_NAME + " letters, digits and ._-/ without "
                    + "empty, '.' or '..' segments, got '" + Wire.clip(name, Wire.MAX_ECHO_CHARS) + "'");
        }
    }

    /** Whether {@code container} is a valid container name. */
    public static boolean validContainer(String container) {
        return CONTAINER.matcher(container).matches();
    }

    /** Whether {@code name} is a valid blob name for a reference. */
    public static boolean validName(String name) {
        if (name.isEmpty() || name.length() > MAX_NAME) {
            return false;
        }
        // '.' and '..' segments are out: an HTTP client may normalise them away and address another blob.
        for (String segment : name.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses the reference held by the message member {@code field}.
     *
     * @throws ScoringException {@code INVALID_INPUT} naming {@code field} and the reference (its query string,
     *     which could hold a SAS token, cut off), and what a reference looks like
     */
    public static PayloadRef parse(String field, String text) {
        Objects.requireNonNull(text, field);
        if (text.startsWith(SCHEME)) {
            String rest = text.substring(SCHEME.length());
            int slash = rest.indexOf('/');
            if (slash > 0 && validContainer(rest.substring(0, slash)) && validName(rest.substring(slash + 1))) {
                return new PayloadRef(rest.substring(0, slash), rest.substring(slash + 1));
            }
        }
        throw ScoringException.invalidInput("'" + field + "' must be a reference " + SCHEME + "<container>/<name> (a container "
                + "name, then letters, digits and ._-/), got '" + quote(text) + "'");
    }

    /**
     * The name of the reply blob for the request with {@code requestMessageId}: {@value #REPLY_PREFIX} and a
     * hash of the id, the same for every reply to one request, so that a redelivered request scored twice
     * overwrites its reply blob instead of leaving a second one.
     */
    public static String replyName(String requestMessageId) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(requestMessageId.getBytes(StandardCharsets.UTF_8));
            return REPLY_PREFIX + "r-" + HexFormat.of().formatHex(hash) + ".json";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * A reference as it may appear in an error message or a log line: anything from a {@code ?} or {@code #}
     * on (a SAS token, in a URL pasted by mistake) is cut off, and the rest clipped to
     * {@link Wire#MAX_ECHO_CHARS}.
     */
    public static String quote(String text) {
        int cut = text.length();
        for (char c : new char[] {'?', '#'}) {
            int i = text.indexOf(c);
            if (i >= 0 && i < cut) {
                cut = i;
            }
        }
        String shown = cut < text.length() ? text.substring(0, cut) + "?<cut>" : text;
        return Wire.clip(shown, Wire.MAX_ECHO_CHARS);
    }

    /** {@code blob://<container>/<name>}. */
    @Override
    public String toString() {
        return SCHEME + container + "/" + name;
    }
}
