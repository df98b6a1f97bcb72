package dev.nearline.core.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.FakeLinearModelProvider;
import dev.nearline.core.ModelLeakChecker;
import dev.nearline.core.Pipeline;
import dev.nearline.core.PluginRegistry;
import dev.nearline.core.internal.ConfigException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A seeded fuzzer for what a scorer takes from outside: records (JSON text, maps with odd Java values and
 * cycles, trees) through real pipelines built from pipeline files with the test's fake models, and mutated
 * pipeline files through {@link Pipeline#fromJson}. Every record must score or fail with a
 * {@link ScoringException} of kind INVALID_INPUT; every pipeline file must load or fail with an
 * {@link IllegalArgumentException} that names a JSON path; no other exception, no {@link Error}, no hang.
 *
 * <p>Reproducible: the seed is printed ({@code -Dnearline.fuzz.seed=...} picks one, each case reports its
 * index); {@code -Dnearline.fuzz.cases=N} scales the record cases (pipeline cases are a quarter of them).
 */
@ExtendWith(ModelLeakChecker.class)
class RecordAndPipelineFuzzTest {
    private static final long SEED = Long.getLong("nearline.fuzz.seed", 0x5EED_2024L);
    private static final int CASES = Integer.getInteger("nearline.fuzz.cases", 10_000);
    private static final int BATCH = 250;
    /** Per batch of cases: generous, a batch takes well under a second. */
    private static final Duration BATCH_TIMEOUT = Duration.ofSeconds(60);
    private static final PluginRegistry PLUGINS = PluginRegistry.discover();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String FEATURES = """
            {
              "name": "fuzz-features",
              "preprocessor": {"type": "json-features", "fields": [
                {"name": "country", "categories": ["NL", "DE"]},
                {"name": "amount"},
                {"name": "age", "default": 30},
                {"name": "tier", "categories": ["a", "b", "c"], "encoding": "index", "default": 7}
              ]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, 2, 0.01, -0.02, 0.5], "bias": 0.5}],
              "postprocessor": {"type": "score", "threshold": 1.0, "labels": ["ok", "fraud"]}
            }
            """;

    private static final String TENSORS = """
            {
              "name": "fuzz-tensors",
              "preprocessor": {"type": "tensors", "maxRecordBytes": 262144, "maxDepth": 16},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, -1, 0.5]}],
              "postprocessor": {"type": "score"}
            }
            """;

    /** The pipeline the pipeline-file fuzzer mutates: every top-level key and most stage keys. */
    private static final String FULL = """
            {
              "name": "fuzz",
              "preprocessor": {"type": "json-features", "maxRecordBytes": 65536, "maxDepth": 16, "allowNaN": false,
                "dtype": "FP32", "output": "input", "fields": [
                {"name": "country", "categories": ["NL", "DE"], "encoding": "onehot", "unknown": "ignore"},
                {"name": "amount", "default": 0},
                {"name": "age", "default": 30}
              ]},
              "steps": [{"name": "linear", "type": "fake-linear", "weights": [1, 2, 0.01, -0.02], "bias": 0.5,
                         "inputs": {"input": "input"}}],
              "postprocessor": {"type": "score", "threshold": 1.0, "labels": ["ok", "fraud"], "index": 0},
              "timeout": "30s", "closeGracePeriod": "1s", "maxInFlight": 64, "warmup": 1,
              "batching": {"maxBatchSize": 8, "maxQueueDelay": "0ms", "sync": "never", "threads": 1},
              "async": {"threads": 1, "queueCapacity": 16},
              "monitoring": {"featureNames": ["nl", "de", "amount", "age"], "window": 100, "captureReference": 100,
                             "bins": 10, "psiThreshold": 0.2, "sampleEvery": 1, "checkEvery": 10,
                             "score": {"index": 0}}
            }
            """;

    private static final String FULL_TENSORS = """
            {
              "preprocessor": {"type": "tensors", "maxRecordBytes": 4096, "maxDepth": 8},
              "steps": [{"type": "fake-softmax", "classes": 3, "keys": ["a", "b", "c"]}],
              "postprocessor": {"type": "classes", "topK": 2, "probabilities": true},
              "warmup": 2
            }
            """;

    /** Outcomes by kind, for the report. */
    private final Map<String, AtomicInteger> outcomes = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();

    @BeforeEach
    void forgetCreatedModels() {
        FakeLinearModelProvider.CREATED.clear();
    }

    // ------------------------------------------------------------------ records

    @Test
    void score_fuzzedRecords_succeedOrFailWithInvalidInput() throws Exception {
        System.out.printf("RecordAndPipelineFuzzTest records: seed %d (-Dnearline.fuzz.seed), %d cases"
                + " (-Dnearline.fuzz.cases)%n", SEED, CASES);
        try (Scorer<Object, Object> features = Pipeline.fromJson(FEATURES, Path.of("."), PLUGINS);
             Scorer<Object, Object> tensors = Pipeline.fromJson(TENSORS, Path.of("."), PLUGINS)) {
            run("record", CASES, i -> {
                Random r = new Random(SEED * 31 + i);
                boolean toTensors = r.nextInt(3) == 0;
                Object record = toTensors ? tensorsRecord(r) : featuresRecord(r);
                return () -> scoreOne(toTensors ? tensors : features, record);
            });
        }
        report("records");
        assertThat(outcomes.keySet()).as("outcome kinds").isSubsetOf("success", "INVALID_INPUT");
        assertThat(outcomes.get("success").get()).as("successes").isGreaterThan(CASES / 20);
        assertThat(outcomes.get("INVALID_INPUT").get()).as("rejections").isGreaterThan(CASES / 4);
    }

    private void scoreOne(Scorer<Object, Object> scorer, Object record) {
        try {
            assertThat(scorer.score(record)).isNotNull();
            count("success");
        } catch (ScoringException e) {
            count(e.kind().name());
            String m = String.valueOf(e.getMessage());
            assertThat(m.length()).as("length of message %s", clip(m)).isBetween(1, 2000);
        }
    }

    // ------------------------------------------------------------------ pipeline files

    @Test
    void load_fuzzedPipelineFiles_loadOrFailWithAJsonPath() throws Exception {
        int cases = Math.max(BATCH, CASES / 4);
        System.out.printf("RecordAndPipelineFuzzTest pipeline files: seed %d, %d cases%n", SEED, cases);
        run("pipeline", cases, i -> {
            Random r = new Random(SEED * 17 + i);
            String json = mutatePipeline(r, r.nextInt(4) == 0 ? FULL_TENSORS : FULL);
            return () -> loadOne(json, r);
        });
        report("pipeline files");
        assertThat(outcomes.keySet()).as("outcome kinds").allMatch(k -> k.equals("config error") || k.startsWith("loaded"));
        assertThat(outcomes.get("config error").get()).as("rejections").isGreaterThan(cases / 4);
        assertThat(outcomes.get("loaded+scored").get()).as("loaded and scored").isGreaterThan(cases / 20);
    }

    private void loadOne(String json, Random r) {
        Scorer<Object, Object> scorer;
        try {
            scorer = Pipeline.fromJson(json, Path.of("."), PLUGINS);
        } catch (IllegalArgumentException e) {
            count("config error");
            String m = String.valueOf(e.getMessage());
            assertThat(e instanceof ConfigException).as("typed config error: %s", clip(e.toString())).isTrue();
            assertThat(m.startsWith("<json>: ") && m.contains("$")).as("message with a path: %s", clip(m)).isTrue();
            assertThat(((ConfigException) e).path()).startsWith("$");
            return;
        }
        try (scorer) {
            if (json.contains("\"always\"") || json.contains("\"auto\"")) {
                count("loaded");
                return;
            }
            Object record = json.contains("\"tensors\"") ? tensorsRecord(r) : featuresRecord(r);
            try {
                scorer.score(record, Duration.ofSeconds(5));
                count("loaded+scored");
            } catch (ScoringException e) {
                // Any kind: a fuzzed pipeline may time out, reject the record, or hold a model that fails.
                count("loaded+" + e.kind());
            }
        }
    }

    // ------------------------------------------------------------------ the harness

    private interface Case {
        void run() throws Exception;
    }

    /** Runs {@code n} cases in batches, each batch bounded in time; a case's failure is recorded with its index. */
    private void run(String what, int n, Function<Integer, Case> cases) throws Exception {
        for (int from = 0; from < n; from += BATCH) {
            int start = from;
            int end = Math.min(n, from + BATCH);
            assertTimeoutPreemptively(BATCH_TIMEOUT, () -> {
                for (int i = start; i < end; i++) {
                    try {
                        cases.apply(i).run();
                    } catch (Throwable t) {
                        // Errors too: a StackOverflowError or OutOfMemoryError escaping is what this test is for.
                        failures.add(what + " case " + i + " (seed " + SEED + "): " + clip(t.toString()));
                        if (failures.size() <= 3 && !(t instanceof AssertionError)) {
                            t.printStackTrace();
                        }
                    }
                }
            }, () -> what + " cases " + start + " to " + end + " (seed " + SEED + ") did not finish in " + BATCH_TIMEOUT);
        }
        assertThat(failures).as("cases that threw something else than the contract allows").isEmpty();
    }

    private static String clip(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "... (" + s.length() + " characters)" : s;
    }

    private void count(String kind) {
        outcomes.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
    }

    private void report(String what) {
        System.out.printf("RecordAndPipelineFuzzTest %s outcomes: %s%n", what, outcomes);
    }

    // ------------------------------------------------------------------ record generators

    private static Object featuresRecord(Random r) {
        switch (r.nextInt(4)) {
            case 0:
            case 1:
                return textRecord(r);
            case 2:
                return mapRecord(r);
            default:
                return treeRecord(r);
        }
    }

    private static String baseText(Random r) {
        return "{\"country\": \"" + pick(r, "NL", "DE", "FR") + "\", \"amount\": " + r.nextInt(1000)
                + (r.nextBoolean() ? ", \"age\": " + r.nextInt(90) : "") + ", \"tier\": \"" + pick(r, "a", "b", "z") + "\"}";
    }

    /** JSON text: valid, with a swapped value, truncated, with garbage, trailing content, deep, long, odd numbers. */
    private static String textRecord(Random r) {
        String base = baseText(r);
        switch (r.nextInt(14)) {
            case 0:
                return base;
            case 1:
                return replaceValue(base, pick(r, "amount", "age", "country", "tier"), jsonValue(r, 3));
            case 2:
                return base.substring(0, r.nextInt(base.length()));
            case 3:
                return insert(r, base, String.valueOf((char) r.nextInt(128)));
            case 4:
                return base + pick(r, " {\"amount\": 6}", "]", ",", " x", "\u0000", base, "\n\n  }", "{}", " null");
            case 5:
                return "{\"amount\": 1, \"amount\": " + jsonValue(r, 1) + ", \"country\": \"NL\", \"country\": \"DE\"}";
            case 6:
                return pick(r, "", "   ", "\n", "null", "42", "\"text\"", "[1, 2]", "true", "[]", "{", "}", "\uFEFF{}");
            case 7: {
                int n = 1 + r.nextInt(4000);
                String deep = r.nextBoolean() ? "[".repeat(n) + "]".repeat(n) : "{\"a\":".repeat(n) + "1" + "}".repeat(n);
                return replaceValue(base, pick(r, "amount", "country", "extra"), deep);
            }
            case 8: {
                int n = r.nextInt(150_000);
                return replaceValue(base, pick(r, "amount", "country", "note"),
                        "\"" + pick(r, "7", "a", "é", "\\\\") .repeat(n) + pick(r, "x", "", "1", "e5") + "\"");
            }
            case 9:
                return replaceValue(base, pick(r, "amount", "age", "country"), pick(r, "1e400", "-1e400", "1e-400",
                        "9".repeat(400), "9".repeat(1200), "0." + "0".repeat(900) + "1", "-0", "1E308", "3.4028236E38",
                        "123456789012345678901234567890", "-9223372036854775809"));
            case 10:
                return replaceValue(base, pick(r, "amount", "country", "tier"), "\"" + unicode(r) + "\"");
            case 11:
                return replaceValue(base, pick(r, "amount", "age"), pick(r, "\"NaN\"", "\"-Infinity\"", "\"Infinity\"",
                        "NaN", "Infinity", "\" 1e5 \"", "\"0x10\"", "\"1f\"", "\"+.5\"", "\"1_000\"", "\"\"", "\" \""));
            case 12:
                return "{" + "\"k".repeat(r.nextInt(3)) + "\"" + "x".repeat(r.nextInt(200_000)) + "\": 1, \"amount\": 1}";
            default:
                return mutateText(r, base);
        }
    }

    private static Object mapRecord(Random r) {
        Map<Object, Object> m = new HashMap<>();
        m.put("country", pick(r, "NL", "DE", "FR"));
        m.put("amount", r.nextInt(1000));
        m.put("tier", "b");
        int swaps = 1 + r.nextInt(3);
        for (int i = 0; i < swaps; i++) {
            m.put(pick(r, "country", "amount", "age", "tier", "extra"), javaValue(r, 0));
        }
        if (r.nextInt(10) == 0) {
            m.put(null, 1);
            m.put(42, "x");
        }
        if (r.nextInt(8) == 0) {
            TreeMap<String, Object> sorted = new TreeMap<>();
            sorted.put("amount", javaValue(r, 0));
            return sorted;
        }
        return m;
    }

    private static Object treeRecord(Random r) {
        String text = textRecord(r);
        try {
            JsonNode n = JSON.readTree(text);
            if (n instanceof ObjectNode && r.nextInt(4) == 0) {
                ((ObjectNode) n).set(pick(r, "country", "amount", "tier"), deepArray(1 + r.nextInt(20_000)));
            }
            return n == null ? text : n;
        } catch (JsonProcessingException e) {
            return text;
        }
    }

    /** A tree nesting arrays {@code depth} deep, built without recursion (as a host might). */
    private static JsonNode deepArray(int depth) {
        ArrayNode root = JsonNodeFactory.instance.arrayNode();
        ArrayNode current = root;
        for (int i = 1; i < depth; i++) {
            current = current.addArray();
        }
        return root;
    }

    /** A Java value for a map record: scalars of odd types, arrays, deep and cyclic containers. */
    private static Object javaValue(Random r, int level) {
        switch (r.nextInt(level > 2 ? 14 : 22)) {
            case 0: return r.nextInt();
            case 1: return r.nextDouble() * 1e6;
            case 2: return pick(r, Double.NaN, Double.POSITIVE_INFINITY, -0.0, Double.MAX_VALUE, Float.MAX_VALUE * 2.0);
            case 3: return BigInteger.TWO.pow(r.nextInt(200_000));
            case 4: return new BigDecimal(BigInteger.ONE, r.nextInt() / 2);
            case 5: return "7".repeat(r.nextInt(50_000)) + pick(r, "x", "", ".5");
            case 6: return unicode(r);
            case 7: return pick(r, 'x', true, false, TimeUnit.SECONDS, new AtomicInteger(3), new StringBuilder("12.5"));
            case 8: return pick(r, new Object(), Optional.empty(), Thread.State.NEW, new int[0].getClass());
            case 9: return pick(r, new int[] {1, 2}, new float[r.nextInt(100_000)], "x".toCharArray(), new byte[3],
                    new boolean[] {true}, new double[] {Double.NaN});
            case 10: return new Object[] {1, "a", null};
            case 11: return pick(r, "NaN", "-Infinity", " 1e5 ", "0x1p3", "1d", "");
            case 12: return null;
            case 13: return List.of(1, 2, 3);
            case 14: {
                Map<String, Object> deep = new HashMap<>();
                Map<String, Object> current = deep;
                int n = 1 + r.nextInt(20_000);
                for (int i = 1; i < n; i++) {
                    Map<String, Object> next = new HashMap<>();
                    current.put("a", next);
                    current = next;
                }
                return deep;
            }
            case 15: {
                Map<String, Object> a = new HashMap<>();
                Map<String, Object> b = new HashMap<>();
                a.put("b", b);
                b.put("a", a);
                b.put("x", 1);
                return a;
            }
            case 16: {
                List<Object> self = new ArrayList<>();
                self.add(1);
                self.add(self);
                return self;
            }
            case 17: {
                List<Object> big = new ArrayList<>();
                int n = r.nextInt(200_000);
                for (int i = 0; i < n; i++) {
                    big.add(i);
                }
                return big;
            }
            case 18: {
                Map<Object, Object> odd = new LinkedHashMap<>();
                odd.put(1, javaValue(r, level + 1));
                odd.put(null, "n");
                odd.put(new Object(), List.of());
                return odd;
            }
            case 19: return jsonTree(r);
            case 20: {
                Map<String, Object> one = new HashMap<>();
                one.put("k", javaValue(r, level + 1));
                return one;
            }
            default: return java.util.Arrays.asList(javaValue(r, level + 1), javaValue(r, level + 1));
        }
    }

    private static Object jsonTree(Random r) {
        try {
            return JSON.readTree(jsonValue(r, 3));
        } catch (JsonProcessingException e) {
            return JsonNodeFactory.instance.textNode("unparsable");
        }
    }

    /** A KServe v2 record, valid or not, as text, a map or a tree. */
    private static Object tensorsRecord(Random r) {
        int rows = r.nextInt(5);
        String datatype = r.nextInt(6) == 0 ? pick(r, "FP64", "INT32", "BYTES", "BOOL", "UINT8", "FLOAT", "fp32", "")
                : "FP32";
        String shape = r.nextInt(6) == 0 ? pick(r, "[-1, 3]", "[1.5, 3]", "[\"1\", 3]", "[4611686018427387904, 4]",
                "[]", "3", "[[1], [3]]", "[1, 3, 1]", "[" + "1, ".repeat(r.nextInt(100)) + "3]")
                : "[" + rows + ", 3]";
        int n = rows * 3 + (r.nextInt(6) == 0 ? r.nextInt(3) - 1 : 0);
        StringBuilder data = new StringBuilder("[");
        for (int i = 0; i < Math.max(0, n); i++) {
            data.append(i == 0 ? "" : ", ").append(r.nextInt(20) == 0 ? jsonValue(r, 1) : Integer.toString(r.nextInt(100)));
        }
        data.append("]");
        String input = "{\"name\": \"" + (r.nextInt(10) == 0 ? pick(r, "other", "", "x".repeat(10_000)) : "input")
                + "\", \"datatype\": \"" + datatype + "\", \"shape\": " + shape + ", \"data\": " + data + "}";
        String text = "{\"inputs\": [" + input + (r.nextInt(10) == 0 ? ", " + input : "") + "]}";
        switch (r.nextInt(8)) {
            case 0:
                return mutateText(r, text);
            case 1:
                return text + pick(r, " {}", "]", "x");
            case 2: {
                List<Object> list = new ArrayList<>();
                for (int i = 0; i < rows * 3; i++) {
                    list.add(r.nextInt(10) == 0 ? javaValue(r, 3) : (Object) (float) r.nextInt(100));
                }
                Map<String, Object> in = new LinkedHashMap<>();
                in.put("name", "input");
                in.put("datatype", datatype);
                in.put("shape", List.of(rows, 3));
                in.put("data", r.nextBoolean() ? list : new float[rows * 3]);
                if (r.nextInt(4) == 0) {
                    in.put(pick(r, "shape", "data", "name", "datatype"), javaValue(r, 0));
                }
                return Map.of("inputs", List.of(in));
            }
            case 3:
                try {
                    return JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    return text;
                }
            default:
                return text;
        }
    }

    // ------------------------------------------------------------------ pipeline mutations

    private static String mutatePipeline(Random r, String base) {
        ObjectNode root;
        try {
            root = (ObjectNode) JSON.readTree(base);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
        int mutations = r.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            mutateTree(r, root);
        }
        String text = root.toString();
        if (r.nextInt(5) == 0) {
            switch (r.nextInt(6)) {
                case 0: return text.substring(0, r.nextInt(text.length()));
                case 1: return text + pick(r, "{}", "]", "x", "}{ \"steps\": [] }", "\n// comment", " ");
                case 2: return insert(r, text, String.valueOf((char) r.nextInt(128)));
                case 3: return "{\"name\": \"a\", " + text.substring(1);
                case 4: return pick(r, "", " ", "[]", "null", "\"pipeline\"", "{}");
                default: return replaceValue(text, "name", "[".repeat(2000) + "]".repeat(2000));
            }
        }
        return text;
    }

    /** One mutation at a random place of the tree: a swapped value, a removed, added or misspelt key. */
    private static void mutateTree(Random r, ObjectNode root) {
        List<JsonNode> containers = new ArrayList<>();
        List<JsonNode> todo = new ArrayList<>(List.of(root));
        while (!todo.isEmpty()) {
            JsonNode n = todo.remove(todo.size() - 1);
            containers.add(n);
            for (JsonNode child : n) {
                if (child.isContainerNode()) {
                    todo.add(child);
                }
            }
        }
        JsonNode target = containers.get(r.nextInt(containers.size()));
        if (target instanceof ObjectNode) {
            ObjectNode o = (ObjectNode) target;
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String key = keys.isEmpty() ? "k" : keys.get(r.nextInt(keys.size()));
            switch (r.nextInt(5)) {
                case 0:
                    o.remove(key);
                    break;
                case 1:
                    o.set(pick(r, "colour", "maxBatchSize", "devcie", key + "s"), settingValue(r));
                    break;
                case 2: {
                    JsonNode v = o.remove(key);
                    o.set(key.isEmpty() ? "x" : key.substring(1), v);
                    break;
                }
                default:
                    o.set(key, settingValue(r));
            }
        } else {
            ArrayNode a = (ArrayNode) target;
            switch (r.nextInt(4)) {
                case 0:
                    a.removeAll();
                    break;
                case 1:
                    if (!a.isEmpty()) {
                        a.add(a.get(r.nextInt(a.size())).deepCopy());
                    }
                    break;
                default:
                    if (!a.isEmpty()) {
                        a.set(r.nextInt(a.size()), settingValue(r));
                    }
            }
        }
    }

    private static JsonNode settingValue(Random r) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (r.nextInt(6)) {
            case 0:
                return f.numberNode(pick(r, 0, -1, 1, 2, 3, 64, 4096, 4097, 1_000_001, Integer.MAX_VALUE, Integer.MIN_VALUE));
            case 1:
                return r.nextBoolean() ? f.numberNode(pick(r, 0.5, 3.0, 1e10, -0.0))
                        : f.numberNode(new BigDecimal(pick(r, "1e400", "-1e400", "1e-400", "2.5e9")));
            case 2:
                return f.textNode(pick(r, "5ms", "0ms", "-1s", "PT1000000H", "999999999999999999999h", "1e400ms", "abc",
                        "", "FP64", "onehot", "always", "never", "error", "fake-linear", "fake-scale", "tensors",
                        "json-features", "score", "classes", "nope", "x".repeat(5000)));
            case 3:
                return pick(r, f.booleanNode(true), f.nullNode(), f.arrayNode(), f.objectNode());
            case 4:
                return f.numberNode(new BigInteger("9".repeat(1 + r.nextInt(60))));
            default:
                ArrayNode a = f.arrayNode();
                a.add(pick(r, "a", "b")).add(1).add(f.objectNode());
                return a;
        }
    }

    // ------------------------------------------------------------------ text helpers

    /** A random small JSON value as text (nesting at most {@code depth}). */
    private static String jsonValue(Random r, int depth) {
        switch (r.nextInt(depth > 0 ? 9 : 7)) {
            case 0: {
                // Not 666: the fake linear model fails on a row starting with it, which is a model failure.
                int v = r.nextInt(2000) - 1000;
                return Integer.toString(v == 666 ? 667 : v);
            }
            case 1: return Double.toString(r.nextGaussian() * 1e3);
            case 2: return "\"" + pick(r, "NL", "DE", "12.5", "a", "", "NaN", "lots") + "\"";
            case 3: return pick(r, "true", "false", "null");
            case 4: return pick(r, "1e400", "-1e-400", "9".repeat(30));
            case 5: return "\"" + unicode(r) + "\"";
            case 6: return "{}";
            case 7: return "[" + jsonValue(r, depth - 1) + ", " + jsonValue(r, depth - 1) + "]";
            default: return "{\"k\": " + jsonValue(r, depth - 1) + "}";
        }
    }

    /** Text with odd code points: escapes of lone surrogates, emoji, controls, combining marks. */
    private static String unicode(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(20);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(6)) {
                case 0: sb.append("\\ud800"); break;
                case 1: sb.append("\\udfff\\ud800"); break;
                case 2: sb.appendCodePoint(0x1F600 + r.nextInt(50)); break;
                case 3: sb.append("\\u0000\\n\\t"); break;
                case 4: sb.append("e\u0301\u200B\uFFFF"); break;
                default: sb.appendCodePoint(r.nextInt(0xD7FF));
            }
        }
        String s = sb.toString();
        // Raw control characters and quotes would end the string early; keep them escaped.
        return s.replace("\"", "\\\"").replaceAll("[\\x00-\\x1f]", " ");
    }

    /** {@code json} with the value of {@code key} replaced (or the key added first). */
    private static String replaceValue(String json, String key, String value) {
        String marker = "\"" + key + "\": ";
        int at = json.indexOf(marker);
        if (at < 0) {
            return "{" + marker + value + (json.length() > 2 ? ", " + json.substring(1) : "}");
        }
        int start = at + marker.length();
        int end = start;
        int nesting = 0;
        boolean inString = false;
        while (end < json.length()) {
            char c = json.charAt(end);
            if (inString) {
                if (c == '\\') {
                    end++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                nesting++;
            } else if (c == '}' || c == ']') {
                if (nesting == 0) {
                    break;
                }
                nesting--;
            } else if (c == ',' && nesting == 0) {
                break;
            }
            end++;
        }
        return json.substring(0, start) + value + json.substring(Math.min(end, json.length()));
    }

    private static String mutateText(Random r, String text) {
        StringBuilder sb = new StringBuilder(text);
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n && sb.length() > 0; i++) {
            int at = r.nextInt(sb.length());
            switch (r.nextInt(3)) {
                case 0: sb.deleteCharAt(at); break;
                case 1: sb.insert(at, pick(r, "{", "}", "[", "]", ",", ":", "\"", "\\", "-", "e", "0", " ")); break;
                default: sb.setCharAt(at, (char) r.nextInt(128));
            }
        }
        return sb.toString();
    }

    private static String insert(Random r, String text, String piece) {
        int at = r.nextInt(text.length() + 1);
        return text.substring(0, at) + piece + text.substring(at);
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
