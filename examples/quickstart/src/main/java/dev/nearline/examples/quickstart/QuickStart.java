package dev.nearline.examples.quickstart;

import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The quick start: scores a card-transaction fraud workload end to end, with no server and no code
 * beyond this file.
 *
 * <ol>
 *   <li>writes a fraud model ({@code fraud.onnx}, a logistic regression over 13 features) and the JSON
 *       pipeline file that describes how to turn a transaction into features and a score into a decision;
 *   <li>loads the pipeline with {@link Pipeline#load}: ONNX Runtime in-process, CPU;
 *   <li>times the first call on the fresh JVM, then, after a short warm-up, each of a few thousand synthetic
 *       transactions scored one by one (steady-state p50/p99), and the same transactions as one batch with
 *       {@link Scorer#scoreAll} (time per record);
 *   <li>shows what a bad record gets: a clear error, while the scorer keeps serving.
 * </ol>
 *
 * <p>Run: {@code java -jar examples/quickstart/target/quickstart.jar [records] [folder]}, or
 * {@code examples/quickstart/fast-start.sh} for the fast start (native-library cache and class-data archive).
 */
public final class QuickStart {

    /** Weights over the pipeline's 13 features, in the order of fraud-pipeline.json. */
    static final float[] WEIGHTS = {
        0.004f,                               // amount: large amounts are riskier
        0.0f,                                 // hour
        -1.0f, -0.8f, -0.5f, 0.8f, 0.6f, 1.5f, // merchant category, one-hot
        -1.5f,                                // card present
        1.2f,                                 // foreign country
        0.45f,                                // transactions in the last hour
        0.002f,                               // km from the card holder's home
        -0.004f,                              // account age in days
    };
    static final float BIAS = -3.0f;

    private static final String[] CATEGORIES = {"grocery", "restaurant", "fuel", "electronics", "travel", "gambling"};
    /** Untimed {@code score} calls before the steady-state measurement: enough for the JIT compiler's hot paths. */
    static final int WARMUP_CALLS = 20_000;

    private QuickStart() {
    }

    /** Runs the quick start; see the class documentation. */
    public static void main(String[] args) throws IOException {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        Path folder = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("nearline-quickstart");
        Path pipelineFile = prepare(folder);
        System.out.printf("Nearline quick start: card-fraud scoring on ONNX Runtime (CPU), pipeline %s%n%n", pipelineFile);

        List<Map<String, Object>> transactions = transactions(records, 42);
        long loadStart = System.nanoTime();
        try (Scorer<Object, Object> scorer = Pipeline.load(pipelineFile)) {
            long loadNanos = System.nanoTime() - loadStart;
            long firstStart = System.nanoTime();
            scorer.score(transactions.get(0));
            long firstNanos = System.nanoTime() - firstStart;
            // Read after the first call, so that the management classes it loads are not charged to it.
            long sinceJvmStart = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();

            for (int i = 0; i < WARMUP_CALLS; i++) {
                scorer.score(transactions.get(i % transactions.size()));
            }
            long[] nanos = new long[transactions.size()];
            int flagged = 0;
            List<String> samples = new ArrayList<>();
            for (int i = 0; i < transactions.size(); i++) {
                Map<String, Object> tx = transactions.get(i);
                long start = System.nanoTime();
                Object result = scorer.score(tx);
                nanos[i] = System.nanoTime() - start;
                @SuppressWarnings("unchecked")
                Map<String, Object> r = (Map<String, Object>) result;
                if (Boolean.TRUE.equals(r.get("decision"))) {
                    flagged++;
                    if (samples.size() < 3) {
                        samples.add(describe(tx, r));
                    }
                } else if (samples.size() < 2) {
                    samples.add(describe(tx, r));
                }
            }
            System.out.println("Sample results:");
            samples.forEach(s -> System.out.println("  " + s));
            System.out.printf(Locale.ROOT, "%nScored %,d transactions one at a time (Scorer.score): %,d flagged for review.%n",
                    nanos.length, flagged);

            for (int i = 0; i < 3; i++) {
                scorer.scoreAll(transactions); // warm-up of the batch path, as above for single calls
            }
            long batchStart = System.nanoTime();
            List<Outcome<Object>> batch = scorer.scoreAll(transactions);
            long batchNanos = System.nanoTime() - batchStart;
            long ok = batch.stream().filter(Outcome::isSuccess).count();

            Arrays.sort(nanos);
            System.out.printf(Locale.ROOT, "%nLatency (the first call is the fresh JVM's; the percentiles are steady state, "
                    + "after %,d untimed calls; scoreAll is one call for all records, per record):%n", WARMUP_CALLS);
            System.out.printf(Locale.ROOT, "  first call:              %.1f ms (pipeline loaded in %.0f ms; first result %,d ms "
                    + "after the JVM started)%n", firstNanos / 1e6, loadNanos / 1e6, sinceJvmStart);
            System.out.printf(Locale.ROOT, "  Scorer.score, per call:  p50 %.1f us, p99 %.1f us, max %.1f us (%,d calls)%n",
                    percentile(nanos, 0.50) / 1e3, percentile(nanos, 0.99) / 1e3, nanos[nanos.length - 1] / 1e3,
                    nanos.length);
            System.out.printf(Locale.ROOT, "  Scorer.scoreAll:         %.2f us per record (%,d ok in %.1f ms)%n",
                    batchNanos / 1e3 / batch.size(), ok, batchNanos / 1e6);

            Map<String, Object> bad = new LinkedHashMap<>(transactions.get(0));
            bad.put("amount", "twelve euros");
            try {
                scorer.score(bad);
            } catch (ScoringException e) {
                System.out.printf("%nA bad record gets a clear error and the scorer keeps serving:%n  %s: %s%n",
                        e.kind(), e.getMessage());
            }
            Map<String, Object> missing = new LinkedHashMap<>(transactions.get(0));
            missing.remove("amount");
            try {
                scorer.score(missing);
            } catch (ScoringException e) {
                System.out.printf("  %s: %s%n", e.kind(), e.getMessage());
            }
            System.out.printf("  next record: %s%n", scorer.score(transactions.get(1)));
        }
    }

    /** Writes fraud.onnx and fraud-pipeline.json into {@code folder}; returns the pipeline file. */
    static Path prepare(Path folder) throws IOException {
        Files.createDirectories(folder);
        DemoModels.logistic(folder.resolve("fraud.onnx"), WEIGHTS, BIAS);
        Path pipeline = folder.resolve("fraud-pipeline.json");
        try (InputStream in = Objects.requireNonNull(QuickStart.class.getResourceAsStream("/quickstart/fraud-pipeline.json"),
                "fraud-pipeline.json resource")) {
            Files.copy(in, pipeline, StandardCopyOption.REPLACE_EXISTING);
        }
        return pipeline;
    }

    /** Deterministic synthetic card transactions: mostly everyday purchases, a few percent that look like fraud. */
    static List<Map<String, Object>> transactions(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Map<String, Object>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            boolean suspicious = rnd.nextDouble() < 0.03;
            Map<String, Object> tx = new LinkedHashMap<>();
            tx.put("id", String.format(Locale.ROOT, "tx-%06d", i));
            if (suspicious) {
                tx.put("amount", round(300 + rnd.nextDouble() * 1500));
                tx.put("hour", rnd.nextInt(0, 6));
                tx.put("merchantCategory", CATEGORIES[3 + rnd.nextInt(3)]);
                tx.put("cardPresent", rnd.nextDouble() < 0.2);
                tx.put("foreign", rnd.nextDouble() < 0.7);
                tx.put("txLastHour", rnd.nextInt(2, 9));
                tx.put("distanceKm", round(rnd.nextDouble() * 4000));
                tx.put("accountAgeDays", rnd.nextInt(1, 120));
            } else {
                tx.put("amount", round(5 + Math.abs(rnd.nextGaussian()) * 60));
                tx.put("hour", rnd.nextInt(7, 23));
                tx.put("merchantCategory", CATEGORIES[rnd.nextInt(CATEGORIES.length)]);
                tx.put("cardPresent", rnd.nextDouble() < 0.8);
                tx.put("foreign", rnd.nextDouble() < 0.05);
                tx.put("txLastHour", rnd.nextInt(0, 3));
                tx.put("distanceKm", round(rnd.nextDouble() * 30));
                tx.put("accountAgeDays", rnd.nextInt(30, 3000));
            }
            out.add(tx);
        }
        return out;
    }

    private static String describe(Map<String, Object> tx, Map<String, Object> result) {
        return String.format(Locale.ROOT, "%s %8.2f EUR %-11s present=%-5s foreign=%-5s -> score %.4f %s",
                tx.get("id"), ((Number) tx.get("amount")).doubleValue(), tx.get("merchantCategory"), tx.get("cardPresent"),
                tx.get("foreign"), ((Number) result.get("score")).doubleValue(), result.get("label"));
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
