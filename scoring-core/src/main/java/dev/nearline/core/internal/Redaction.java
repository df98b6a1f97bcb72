package dev.nearline.core.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What configuration messages and {@code toString} may show of values that can hold secrets: a URL as
 * {@code scheme://host:port/path} (no user info, query or fragment), a connection string as its endpoint and
 * entity only, and whether a setting's key or text marks it as a secret. Stateless; thread-safe.
 */
public final class Redaction {
    /** Shown instead of a hidden value. */
    public static final String HIDDEN = "(hidden)";

    /** Fragments of key names (lower case, without '-' and '_') whose values are secrets. */
    private static final List<String> SECRET_KEY_PARTS = List.of("token", "password", "passwd", "pwd", "secret",
            "connectionstring", "credential", "apikey", "accountkey", "accesskey", "sharedaccess", "sas", "signature",
            "authorization", "header", "cookie", "privatekey");
    /** Fragments of text (lower case) that only secrets carry. */
    private static final List<String> SECRET_TEXT_PARTS = List.of("sig=", "sharedaccesskey=", "sharedaccesssignature",
            "accountkey=", "password=", "pwd=", "bearer ", "token=", "secret=", "apikey=", "-----begin");
    private static final Pattern USER_INFO = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@");
    private static final Pattern SEGMENT_INDEX = Pattern.compile("\\[\\d+]");

    /** Jackson's {@code Unrecognized token '<text>'}, the one parser message that quotes more than a character. */
    private static final Pattern UNRECOGNIZED_TOKEN = Pattern.compile("Unrecognized token '(?s:.*?)'(?=: was expecting|$)");

    private Redaction() {
    }

    /**
     * A JSON parser's message without the text of a token it quotes ({@code Unrecognized token 'twelve': ...}), for
     * messages about records, whose text may be personal data.
     */
    public static String parserReason(@Nullable String parserMessage) {
        return UNRECOGNIZED_TOKEN.matcher(String.valueOf(parserMessage)).replaceFirst("Unrecognized token (not shown)");
    }

    /** Whether a setting named {@code key} holds a secret ({@code bearerToken}, {@code headers}, ...). */
    public static boolean isSecretKey(@Nullable String key) {
        if (key == null) {
            return false;
        }
        String k = key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (String part : SECRET_KEY_PARTS) {
            if (k.contains(part)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any key of a JSON path such as {@code $.steps[0].headers.X-Api-Key} names a secret. */
    public static boolean isSecretPath(String path) {
        for (String segment : SEGMENT_INDEX.matcher(path).replaceAll("").split("\\.")) {
            if (!segment.equals("$") && isSecretKey(segment)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code text} looks like it carries a secret: a SAS signature, a shared access or account key, a
     * password, a bearer token, a private key or a URL with user info.
     */
    public static boolean looksSecret(@Nullable String text) {
        if (text == null) {
            return false;
        }
        String t = text.toLowerCase(Locale.ROOT);
        for (String part : SECRET_TEXT_PARTS) {
            if (t.contains(part)) {
                return true;
            }
        }
        return USER_INFO.matcher(text).find();
    }

    /**
     * A URL as {@code scheme://host[:port][/path]}, without user info, query or fragment; {@code "(not a URL)"} when
     * it does not parse (the text is not shown: it may hold credentials).
     */
    public static String url(@Nullable String url) {
        if (url == null) {
            return "null";
        }
        try {
            return url(new URI(url.trim()));
        } catch (URISyntaxException e) {
            return "(not a URL)";
        }
    }

    /** {@link #url(String)} of a parsed URI. */
    public static String url(URI u) {
        if (u.getScheme() == null || u.getRawAuthority() == null) {
            // Relative or opaque ("mailto:..."): only the path could be safe, and a path can hold a key too.
            return u.getScheme() == null ? "(a relative URL)" : u.getScheme() + ":" + HIDDEN;
        }
        StringBuilder b = new StringBuilder(u.getScheme()).append("://");
        if (u.getHost() != null) {
            b.append(u.getHost());
            if (u.getPort() >= 0) {
                b.append(':').append(u.getPort());
            }
        } else {
            String authority = u.getRawAuthority();
            int at = authority.lastIndexOf('@');
            b.append(at < 0 ? authority : authority.substring(at + 1));
        }
        if (u.getRawPath() != null) {
            b.append(u.getRawPath());
        }
        return b.toString();
    }

    /**
     * A connection string ({@code Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=...}) as
     * its endpoint and entity only; {@code "(hidden)"} when it names neither.
     */
    public static String connectionString(@Nullable String connectionString) {
        if (connectionString == null) {
            return "null";
        }
        String endpoint = null;
        String entity = null;
        for (String part : connectionString.split(";")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String name = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = part.substring(eq + 1).trim();
            if (name.equals("endpoint") || name.equals("blobendpoint")) {
                endpoint = url(value);
            } else if (name.equals("entitypath")) {
                entity = value;
            } else if (name.equals("accountname") && endpoint == null) {
                endpoint = "account " + value;
            }
        }
        if (endpoint == null && entity == null) {
            return HIDDEN;
        }
        return (endpoint == null ? "" : "Endpoint=" + endpoint) + (endpoint != null && entity != null ? ";" : "")
                + (entity == null ? "" : "EntityPath=" + entity);
    }

    /**
     * What is wrong with the form of a connection string ({@code Name=value;Name=value}), naming parts by position or
     * key, never by value; null when each part is a name and a value and the keys of one of {@code alternatives} (each
     * a list of required keys, compared ignoring case) are all present.
     */
    public static @Nullable String connectionStringProblem(String connectionString, List<List<String>> alternatives) {
        List<String> names = new java.util.ArrayList<>();
        String[] parts = connectionString.split(";");
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].trim();
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0 || eq == part.length() - 1) {
                return "part " + (i + 1) + " is not Name=value";
            }
            names.add(part.substring(0, eq).trim().toLowerCase(Locale.ROOT));
        }
        for (List<String> keys : alternatives) {
            if (keys.stream().allMatch(k -> names.contains(k.toLowerCase(Locale.ROOT)))) {
                return null;
            }
        }
        StringBuilder b = new StringBuilder("it needs ");
        for (int i = 0; i < alternatives.size(); i++) {
            b.append(i == 0 ? "" : " or ").append(String.join(", ", alternatives.get(i)));
        }
        return b.toString();
    }

    /** {@code text} unless it {@link #looksSecret looks like a secret}, else {@link #HIDDEN}. */
    public static String unlessSecret(@Nullable String text) {
        return looksSecret(text) ? HIDDEN : String.valueOf(text);
    }
}
