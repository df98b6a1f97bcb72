package dev.nearline.core.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Resolves references to secrets in the string values of a pipeline file, once, when it is loaded:
 * {@code ${env:NAME}} is replaced by the environment variable {@code NAME} and {@code ${file:PATH}} by the
 * content of a file (a mounted Kubernetes secret; a relative path is resolved against the pipeline file's
 * directory; trailing line breaks are removed). A reference may be the whole value or part of it
 * ({@code "Bearer ${env:TOKEN}"}); {@code $${} stands for a literal {@code ${}; any other {@code $} is
 * literal. Substituted text is never expanded again. Keys are never substituted.
 *
 * <p>Every string that held a reference is remembered as <em>sensitive</em> (see {@link Resolved#isSensitive}),
 * so that configuration errors never echo it. Errors name the JSON path and the variable or file, never a
 * value. Stateless apart from the injected environment; thread-safe.
 */
public final class Substitutions {
    /** Largest secret file read: a token or a password, not a data file. */
    static final int MAX_FILE_BYTES = 64 * 1024;
    private static final String ENV = "env:";
    private static final String FILE = "file:";

    private final Function<String, @Nullable String> environment;
    private final Path baseDirectory;

    /**
     * @param environment   looks up environment variables ({@code System::getenv} in production; a map in tests)
     * @param baseDirectory against which relative {@code ${file:...}} paths are resolved
     */
    public Substitutions(Function<String, @Nullable String> environment, Path baseDirectory) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.baseDirectory = Objects.requireNonNull(baseDirectory, "baseDirectory");
    }

    /** Over the process environment ({@link System#getenv(String)}). */
    public static Substitutions ofSystem(Path baseDirectory) {
        return new Substitutions(System::getenv, baseDirectory);
    }

    /** The nodes that held references, by identity; see {@link #resolve}. */
    public static final class Resolved {
        /** Nothing substituted. */
        public static final Resolved NONE = new Resolved(Collections.emptySet());

        private final Set<JsonNode> sensitive;

        private Resolved(Set<JsonNode> sensitive) {
            this.sensitive = sensitive;
        }

        /** Whether {@code node} (that very node) got its text, or part of it, from a reference. */
        public boolean isSensitive(@Nullable JsonNode node) {
            return node != null && sensitive.contains(node);
        }

        /** How many values were substituted. */
        public int count() {
            return sensitive.size();
        }
    }

    /**
     * Replaces, in place, every string value under {@code root} that holds a reference.
     *
     * @throws ConfigException at the value's JSON path, naming the variable or file that is missing or unreadable,
     *     or the malformed reference (never the value)
     */
    public Resolved resolve(JsonNode root) {
        Set<JsonNode> sensitive = Collections.newSetFromMap(new IdentityHashMap<>());
        walk(root, "$", sensitive);
        return sensitive.isEmpty() ? Resolved.NONE : new Resolved(sensitive);
    }

    private void walk(JsonNode node, String path, Set<JsonNode> sensitive) {
        // Pipeline files nest a few levels; JsonTrees has already bounded the depth of the tree.
        if (node instanceof ObjectNode) {
            ObjectNode o = (ObjectNode) node;
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                JsonNode v = o.get(key);
                String at = path + "." + key;
                if (v.isTextual()) {
                    JsonNode r = substitute(v.textValue(), at, sensitive);
                    if (r != null) {
                        o.replace(key, r);
                    }
                } else {
                    walk(v, at, sensitive);
                }
            }
        } else if (node instanceof ArrayNode) {
            ArrayNode a = (ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                JsonNode v = a.get(i);
                String at = path + "[" + i + "]";
                if (v.isTextual()) {
                    JsonNode r = substitute(v.textValue(), at, sensitive);
                    if (r != null) {
                        a.set(i, r);
                    }
                } else {
                    walk(v, at, sensitive);
                }
            }
        }
    }

    /**
     * The new node when {@code text} holds a reference or an escape, null when it is unchanged; a node that got
     * text from a reference is added to {@code sensitive}.
     */
    private @Nullable JsonNode substitute(String text, String path, Set<JsonNode> sensitive) {
        if (text.indexOf('$') < 0) {
            return null;
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        boolean changed = false;
        boolean referenced = false;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$') {
                out.append(c);
                i++;
            } else if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                changed = true;
            } else if (!text.startsWith("${", i)) {
                out.append(c);
                i++;
            } else {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    throw new ConfigException(path, "unterminated reference at character " + (i + 1)
                            + "; expected ${env:NAME} or ${file:PATH} (write $${ for a literal ${)");
                }
                out.append(lookUp(text.substring(i + 2, close), path));
                i = close + 1;
                changed = true;
                referenced = true;
            }
        }
        if (!changed) {
            return null;
        }
        // A fresh node per value, so that identity tells this value from an equal one written in clear.
        JsonNode node = new TextNode(out.toString());
        if (referenced) {
            sensitive.add(node);
        }
        return node;
    }

    private String lookUp(String ref, String path) {
        if (ref.startsWith(ENV)) {
            String name = ref.substring(ENV.length());
            if (!isVariableName(name)) {
                throw new ConfigException(path, "'${" + Records.clip(ref) + "}' does not name an environment variable; "
                        + "expected ${env:NAME} with letters, digits and _");
            }
            String value = environment.apply(name);
            if (value == null) {
                throw new ConfigException(path, "environment variable '" + name + "' is not set");
            }
            return value;
        }
        if (ref.startsWith(FILE)) {
            String name = ref.substring(FILE.length());
            if (name.isBlank()) {
                throw new ConfigException(path, "'${file:}' names no file; expected ${file:/path/to/secret}");
            }
            return readSecret(name, path);
        }
        throw new ConfigException(path, "unsupported reference '${" + Records.clip(ref.contains(":")
                ? ref.substring(0, ref.indexOf(':') + 1) + "...": ref) + "}'; expected ${env:NAME} or ${file:PATH} "
                + "(write $${ for a literal ${)");
    }

    private String readSecret(String name, String path) {
        Path file;
        try {
            file = baseDirectory.resolve(name).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new ConfigException(path, "'${file:...}' names an invalid path: " + e.getReason());
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new ConfigException(path, "secret file " + file + " does not exist");
        } catch (IOException | SecurityException e) {
            // The exception's class says why (AccessDeniedException, ...); its message could only repeat the path.
            throw new ConfigException(path, "cannot read secret file " + file + " (" + e.getClass().getSimpleName()
                    + ")");
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new ConfigException(path, "secret file " + file + " is larger than " + MAX_FILE_BYTES
                    + " bytes; a reference holds a token or a password, not a data file");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(path, "secret file " + file + " is not UTF-8 text");
        }
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
            end--;
        }
        return text.substring(0, end);
    }

    private static boolean isVariableName(String name) {
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                return false;
            }
        }
        return true;
    }
}
