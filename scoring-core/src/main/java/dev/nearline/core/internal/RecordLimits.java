package dev.nearline.core.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Ticker;
import dev.nearline.api.spi.Settings;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Bounds on the work one record may cost a built-in preprocessor: the size of its JSON text (for a
 * {@code Map} or {@code JsonNode} record, the size its most compact JSON form would have), how deep it
 * nests, and its deadline. JSON text is parsed by Jackson under matching {@link StreamReadConstraints};
 * maps, lists and trees are walked iteratively, so no input can exhaust the stack, and a cycle stops at
 * the depth limit. Messages name the field and the limit, never a value. Immutable and thread-safe; the
 * state of one record lives in a {@link Budget}.
 */
final class RecordLimits {
    /** Settings key of the size limit. */
    static final String MAX_RECORD_BYTES = "maxRecordBytes";
    /** Settings key of the depth limit. */
    static final String MAX_DEPTH = "maxDepth";
    /** Default {@code maxDepth}: records are flat or a few levels deep. */
    static final int DEFAULT_DEPTH = 64;
    /** A number given as a string longer than this is refused before it is parsed. */
    static final int MAX_NUMBER_CHARS = 1000;
    /** Units of work (fields count 16, elements 1) between two looks at the deadline. */
    private static final int CHECK_EVERY = 1024;
    /** Path segments named in a message at most. */
    private static final int PATH_SEGMENTS = 8;

    private final String stage;
    private final int maxBytes;
    private final int maxDepth;
    /** Streaming only: trees are built by {@link JsonTrees}, so a preprocessor builds no ObjectMapper. */
    private final JsonFactory json;

    RecordLimits(String stage, int maxBytes, int maxDepth) {
        Ranges.check(MAX_RECORD_BYTES, maxBytes, Ranges.MIN_RECORD_BYTES, Ranges.MAX_RECORD_BYTES);
        Ranges.check(MAX_DEPTH, maxDepth, 1, Ranges.MAX_DEPTH);
        this.stage = stage;
        this.maxBytes = maxBytes;
        this.maxDepth = maxDepth;
        this.json = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(maxDepth)
                        .maxDocumentLength(maxBytes)
                        .maxStringLength(maxBytes)
                        .maxNameLength(maxBytes)
                        .maxNumberLength(MAX_NUMBER_CHARS)
                        .build())
                .build();
    }

    /** The limits read from a built-in preprocessor's settings ({@code maxRecordBytes}, {@code maxDepth}). */
    static RecordLimits fromSettings(Settings s, String stage, int defaultBytes) {
        int bytes = Ranges.integer(s, MAX_RECORD_BYTES, defaultBytes, Ranges.MIN_RECORD_BYTES, Ranges.MAX_RECORD_BYTES);
        int depth = Ranges.integer(s, MAX_DEPTH, DEFAULT_DEPTH, 1, Ranges.MAX_DEPTH);
        return new RecordLimits(stage, bytes, depth);
    }

    int maxBytes() {
        return maxBytes;
    }

    int maxDepth() {
        return maxDepth;
    }

    /** The state of one record: what is left of its size budget, and when to look at its deadline next. */
    Budget budget(Ticker ticker, long deadline) {
        return new Budget(ticker, deadline);
    }

    /** Per-record state; used by one thread. */
    final class Budget {
        private final Ticker ticker;
        private final long deadline;
        private long left = maxBytes;
        private long work;
        private long nextCheck = CHECK_EVERY;

        private Budget(Ticker ticker, long deadline) {
            this.ticker = ticker;
            this.deadline = deadline;
        }

        /** Counts {@code units} of work, and every so many looks at the deadline. */
        void work(long units) {
            work += units;
            if (work >= nextCheck) {
                nextCheck = work + CHECK_EVERY;
                if (deadline != BoundedPreprocessor.NO_DEADLINE && ticker.read() - deadline >= 0) {
                    throw new ScoringException(ScoringException.Kind.DEADLINE_EXCEEDED, "the record's deadline passed"
                            + " while the " + stage + " preprocessor read it");
                }
            }
        }

        /** Spends {@code bytes} of the size budget on the value at {@code where}, plus one unit of work. */
        void spend(long bytes, String where) {
            left -= bytes;
            if (left < 0) {
                throw tooLarge(where);
            }
            work(1);
        }
    }

    // ------------------------------------------------------------------ JSON text

    /**
     * Parses JSON text that must hold one object and nothing after it.
     *
     * @throws ScoringException INVALID_INPUT when the text is empty, too large, too deep, malformed, not an
     *     object, or has content after the object
     */
    ObjectNode parseObject(CharSequence text, Budget budget, boolean quoteValues) {
        if (utf8Length(text, maxBytes) > maxBytes) {
            throw tooLarge("");
        }
        JsonParser p = null;
        try {
            p = json.createParser(text.toString());
            JsonToken first = p.nextToken();
            if (first == null) {
                throw ScoringException.invalidInput("record is empty; expected a JSON object");
            }
            if (first != JsonToken.START_OBJECT) {
                throw ScoringException.invalidInput("record must be a JSON object, got " + describe(first));
            }
            ObjectNode n = (ObjectNode) JsonTrees.read(p);
            requireEnd(p);
            budget.work(text.length() / 64);
            return n;
        } catch (StreamConstraintsException e) {
            throw constraintViolated(p);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw ScoringException.invalidInput("record is not valid JSON" + (at == null ? "" : " at line " + at.getLineNr()
                    + ", column " + at.getColumnNr()) + ": " + reason(e.getOriginalMessage(), quoteValues));
        } catch (IOException e) {
            // A String source does no I/O; keep the contract (one exception type) all the same.
            throw ScoringException.invalidInput("record cannot be read as JSON: " + e.getMessage());
        } finally {
            if (p != null) {
                try {
                    p.close();
                } catch (IOException ignored) {
                    // Nothing to release for a String source.
                }
            }
        }
    }

    /**
     * The parser's reason, without the text of a token it quotes ({@code Unrecognized token 'twelve': ...}) unless
     * values may be quoted: that text is the record's.
     */
    static String reason(@Nullable String parserMessage, boolean quoteValues) {
        String m = String.valueOf(parserMessage);
        return quoteValues ? m : Redaction.parserReason(m);
    }

    /** Fails unless {@code p}, having read one value, is at the end of its text. */
    private static void requireEnd(JsonParser p) throws IOException {
        JsonLocation at;
        try {
            if (p.nextToken() == null) {
                return;
            }
            at = p.currentTokenLocation();
        } catch (JsonProcessingException e) {
            at = e.getLocation() == null ? p.currentLocation() : e.getLocation();
        }
        throw ScoringException.invalidInput("record has content after its JSON object, at line " + at.getLineNr()
                + ", column " + at.getColumnNr() + "; send exactly one JSON object per record");
    }

    /** Which of the parser's constraints the text broke: known from where the parser stands, not from a message. */
    private ScoringException constraintViolated(@Nullable JsonParser p) {
        if (p == null) {
            return tooLarge("");
        }
        JsonStreamContext ctx = p.getParsingContext();
        String where = "at " + jsonPath(ctx);
        if (ctx.getNestingDepth() >= maxDepth) {
            return tooDeep(where);
        }
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
            return ScoringException.invalidInput("record " + where + " holds a number of more than " + MAX_NUMBER_CHARS
                    + " digits");
        }
        return tooLarge(where);
    }

    /** The JSON path of where a parser stands, such as {@code $.inputs[0].data}, clipped to a few segments. */
    static String jsonPath(@Nullable JsonStreamContext ctx) {
        ArrayDeque<String> segments = new ArrayDeque<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject()) {
                segments.addFirst(c.getCurrentName() == null ? "" : "." + Records.clip(c.getCurrentName()));
            } else {
                segments.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        return joinPath(segments);
    }

    private static String joinPath(Iterable<String> segments) {
        StringBuilder sb = new StringBuilder("$");
        int n = 0;
        for (String s : segments) {
            if (n++ == PATH_SEGMENTS) {
                sb.append("...");
                break;
            }
            sb.append(s);
        }
        return sb.toString();
    }

    private static String describe(JsonToken t) {
        switch (t) {
            case START_ARRAY:
                return "an array";
            case VALUE_STRING:
                return "a string";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return "a number";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            case VALUE_NULL:
                return "null";
            default:
                return t.asString() == null ? t.name() : t.asString();
        }
    }

    /** UTF-8 length of {@code s}, counting no further than just past {@code limit}. */
    static long utf8Length(CharSequence s, long limit) {
        int n = s.length();
        if (n > limit) {
            return n;
        }
        long bytes = 0;
        for (int i = 0; i < n && bytes <= limit; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800 || Character.isSurrogate(c)) {
                bytes += 2; // a surrogate pair makes 4 bytes, 2 per half
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    // ------------------------------------------------------------------ Java values and trees

    /** Whether {@code v} holds other values: a map, an iterable, an array, or a JSON object or array. */
    static boolean isContainer(@Nullable Object v) {
        if (v instanceof JsonNode) {
            return ((JsonNode) v).isContainerNode();
        }
        return v instanceof Map || v instanceof Iterable || v instanceof Object[] || isPrimitiveArray(v);
    }

    private static boolean isPrimitiveArray(@Nullable Object v) {
        return v != null && v.getClass().isArray() && v.getClass().getComponentType().isPrimitive();
    }

    /**
     * Checks a value read from field {@code field} of a record: its depth (the record being level 1) and
     * size, walking it without recursion. Values of types JSON lacks are counted, not refused.
     */
    void checkField(String field, @Nullable Object value, Budget budget) {
        walk(value, 2, "field '" + Records.clip(field) + "'", budget, false);
    }

    /** Checks a whole record given as a tree or map: depth and size. */
    void checkRecord(Object record, Budget budget) {
        walk(record, 1, "", budget, false);
    }

    /**
     * A {@code Map} (or list) record as a JSON tree: checked first, without allocating, then built.
     *
     * @throws ScoringException INVALID_INPUT when too large or deep, or holding a value JSON cannot hold
     */
    JsonNode toTree(Object record, Budget budget) {
        walk(record, 1, "", budget, false);
        return java.util.Objects.requireNonNull(walk(record, 1, "", budget, true));
    }

    /** A container being walked: its remaining children, the node being built, and where it is. */
    private static final class Frame {
        final Iterator<?> children;
        final @Nullable ContainerNode<?> target;
        final int depth;
        final boolean keyed;
        @Nullable Object key;
        int index = -1;

        Frame(Iterator<?> children, @Nullable ContainerNode<?> target, int depth, boolean keyed) {
            this.children = children;
            this.target = target;
            this.depth = depth;
            this.keyed = keyed;
        }

        String segment() {
            return keyed ? "." + Records.clip(String.valueOf(key)) : "[" + Math.max(0, index) + "]";
        }
    }

    /**
     * Walks {@code value} (at nesting level {@code depth}) with an explicit stack. Checking spends the size
     * budget; building (after a check) only counts work, so a record is not charged twice.
     */
    private @Nullable JsonNode walk(@Nullable Object value, int depth, String where, Budget budget, boolean build) {
        if (!isContainer(value) || isPrimitiveArray(value)) {
            return leaf(value, depth, where, budget, build, null);
        }
        if (depth > maxDepth) {
            throw tooDeep(where);
        }
        ArrayDeque<Frame> stack = new ArrayDeque<>();
        ContainerNode<?> root = build ? newContainer(value) : null;
        charge(2, where, budget, build);
        stack.push(frame(value, root, depth));
        while (!stack.isEmpty()) {
            Frame f = stack.peek();
            if (!f.children.hasNext()) {
                stack.pop();
                continue;
            }
            Object child = f.children.next();
            f.index++;
            if (f.keyed) {
                Map.Entry<?, ?> e = (Map.Entry<?, ?>) child;
                f.key = e.getKey();
                child = e.getValue();
                charge(f.key instanceof CharSequence ? ((CharSequence) f.key).length() + 4L : 4, where, budget, build);
            } else {
                charge(1, where, budget, build);
            }
            if (isContainer(child) && !isPrimitiveArray(child)) {
                if (f.depth + 1 > maxDepth) {
                    throw tooDeep(where.isEmpty() ? pathOf(stack) : where);
                }
                ContainerNode<?> node = build ? newContainer(child) : null;
                add(f, node);
                charge(2, where, budget, build);
                stack.push(frame(child, node, f.depth + 1));
            } else {
                add(f, leaf(child, f.depth + 1, where, budget, build, stack));
            }
        }
        return root;
    }

    /** A scalar or a primitive array at nesting level {@code depth}: charged, and built when asked. */
    private @Nullable JsonNode leaf(@Nullable Object v, int depth, String where, Budget budget, boolean build,
                                    @Nullable ArrayDeque<Frame> stack) {
        boolean array = isPrimitiveArray(v);
        if (array && depth > maxDepth) {
            throw tooDeep(where.isEmpty() && stack != null ? pathOf(stack) : where);
        }
        charge(array ? arraySize(java.util.Objects.requireNonNull(v)) : size(v), where, budget, build);
        if (!build) {
            return null;
        }
        JsonNode node = array ? primitiveArray(java.util.Objects.requireNonNull(v), budget) : scalar(v);
        if (node == null) {
            throw unsupported(java.util.Objects.requireNonNull(v), where.isEmpty() && stack != null ? pathOf(stack) : where);
        }
        return node;
    }

    private static void charge(long bytes, String where, Budget budget, boolean build) {
        if (build) {
            budget.work(1);
        } else {
            budget.spend(bytes, where);
        }
    }

    private static String pathOf(ArrayDeque<Frame> stack) {
        ArrayDeque<String> segments = new ArrayDeque<>();
        for (Iterator<Frame> it = stack.descendingIterator(); it.hasNext(); ) {
            segments.add(it.next().segment());
        }
        return " at " + joinPath(segments);
    }

    private static void add(Frame f, @Nullable JsonNode node) {
        if (f.target instanceof ObjectNode) {
            ((ObjectNode) f.target).set(String.valueOf(f.key), node);
        } else if (f.target instanceof ArrayNode) {
            ((ArrayNode) f.target).add(node);
        }
    }

    private static Frame frame(Object v, @Nullable ContainerNode<?> target, int depth) {
        if (v instanceof Map) {
            return new Frame(((Map<?, ?>) v).entrySet().iterator(), target, depth, true);
        }
        if (v instanceof JsonNode) {
            JsonNode n = (JsonNode) v;
            return n.isObject() ? new Frame(n.properties().iterator(), target, depth, true)
                    : new Frame(n.elements(), target, depth, false);
        }
        if (v instanceof Iterable) {
            return new Frame(((Iterable<?>) v).iterator(), target, depth, false);
        }
        return new Frame(Arrays.asList((Object[]) v).iterator(), target, depth, false);
    }

    private static ContainerNode<?> newContainer(Object v) {
        boolean object = v instanceof Map || v instanceof JsonNode && ((JsonNode) v).isObject();
        return object ? JsonNodeFactory.instance.objectNode() : JsonNodeFactory.instance.arrayNode();
    }

    /** The JSON size of a primitive array: a string for {@code char[]}, else at least two bytes an element. */
    private static long arraySize(Object array) {
        int n = java.lang.reflect.Array.getLength(array);
        return array instanceof char[] ? n + 2L : 2L + 2L * n;
    }

    /** A primitive array as a JSON array ({@code char[]} as a string), counting the work per element. */
    private static JsonNode primitiveArray(Object array, Budget budget) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (array instanceof char[]) {
            return f.textNode(new String((char[]) array));
        }
        int n = java.lang.reflect.Array.getLength(array);
        ArrayNode out = f.arrayNode(n);
        for (int i = 0; i < n; i++) {
            budget.work(1);
            if (array instanceof float[]) {
                out.add(((float[]) array)[i]);
            } else if (array instanceof double[]) {
                out.add(((double[]) array)[i]);
            } else if (array instanceof int[]) {
                out.add(((int[]) array)[i]);
            } else if (array instanceof long[]) {
                out.add(((long[]) array)[i]);
            } else if (array instanceof short[]) {
                out.add(((short[]) array)[i]);
            } else if (array instanceof byte[]) {
                out.add(((byte[]) array)[i]);
            } else {
                out.add(((boolean[]) array)[i]);
            }
        }
        return out;
    }

    /**
     * A lower bound of the JSON length of a scalar, computed without formatting it (values of types JSON
     * lacks count 1; building a tree refuses them).
     */
    private static long size(@Nullable Object v) {
        if (v instanceof CharSequence) {
            return ((CharSequence) v).length() + 2L;
        }
        if (v instanceof JsonNode) {
            JsonNode n = (JsonNode) v;
            if (n.isTextual()) {
                return n.textValue().length() + 2L;
            }
            if (n.isBigInteger()) {
                return n.bigIntegerValue().bitLength() / 4 + 1;
            }
            if (n.isBigDecimal()) {
                return decimalSize(n.decimalValue());
            }
            return 1;
        }
        if (v instanceof BigInteger) {
            return ((BigInteger) v).bitLength() / 4 + 1;
        }
        if (v instanceof BigDecimal) {
            return decimalSize((BigDecimal) v);
        }
        return 1;
    }

    /** A huge scale would print as a huge string (or be parsed into one): count it. */
    private static long decimalSize(BigDecimal d) {
        return d.precision() + 1L + Math.abs((long) d.scale());
    }

    private static JsonNode scalarOrFail(@Nullable Object v, String where) {
        JsonNode n = scalar(v);
        if (n == null) {
            throw unsupported(java.util.Objects.requireNonNull(v), where);
        }
        return n;
    }

    /** A scalar as a tree node, or null when JSON has no such type. */
    private static @Nullable JsonNode scalar(@Nullable Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v == null) {
            return f.nullNode();
        }
        if (v instanceof JsonNode) {
            return (JsonNode) v;
        }
        if (v instanceof CharSequence || v instanceof Character) {
            return f.textNode(v.toString());
        }
        if (v instanceof Enum) {
            return f.textNode(((Enum<?>) v).name());
        }
        if (v instanceof Boolean) {
            return f.booleanNode((Boolean) v);
        }
        if (v instanceof Double || v instanceof Float) {
            return f.numberNode(((Number) v).doubleValue());
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof java.util.concurrent.atomic.AtomicInteger
                || v instanceof java.util.concurrent.atomic.AtomicLong) {
            return f.numberNode(((Number) v).longValue());
        }
        if (v instanceof BigInteger) {
            return f.numberNode((BigInteger) v);
        }
        if (v instanceof BigDecimal) {
            return f.numberNode((BigDecimal) v);
        }
        return null;
    }

    private static ScoringException unsupported(Object v, String where) {
        return ScoringException.invalidInput("record value " + where.trim() + " is a " + v.getClass().getName()
                + "; records hold maps, lists, strings, numbers, booleans and nulls");
    }

    // ------------------------------------------------------------------ messages

    private ScoringException tooLarge(String where) {
        return ScoringException.invalidInput("record is larger than " + maxBytes + " bytes of JSON"
                + (where.isEmpty() ? "" : " (" + where.trim() + ")") + ", the " + stage + " preprocessor's "
                + MAX_RECORD_BYTES + "; raise " + MAX_RECORD_BYTES + " in its settings (at most "
                + Ranges.MAX_RECORD_BYTES + ")");
    }

    private ScoringException tooDeep(String where) {
        return ScoringException.invalidInput("record " + (where.isEmpty() ? "" : where.trim() + " ")
                + "nests more than " + maxDepth + " levels deep, the " + stage + " preprocessor's " + MAX_DEPTH
                + "; raise " + MAX_DEPTH + " in its settings (at most " + Ranges.MAX_DEPTH + ")");
    }
}
