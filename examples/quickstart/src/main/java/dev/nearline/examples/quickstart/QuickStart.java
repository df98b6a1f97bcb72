package dev.nearline.examples.quickstart;

import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import dev.nearline.api.ScoringException;
import dev.nearline.core.Pipeline;
import dev.nearline.onnx.testing.DemoModels;
import java.io.IOException;
import java.io.InputStream;
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
 *   <li>scores a few thousand synthetic transactions one by one, timing each call, and once more as one
 *       batch with {@link Scorer#scoreAll};
 *   <li>shows what a bad record gets: a clear error, while the scorer keeps serving.
 * </ol>
 *
 * <p>Run: {@code java -jar examples/quickstart/target/quickstart.jar [records] [folder]}.
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

    private QuickStart() {
    }

    /** Runs the quick start; see the class documentation. */
    public static void main(String[] args) throws IOException {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        Path folder = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("nearline-quickstart");
        Path pipelineFile = prepare(folder);
        System.out.printf("Nearline quick start: card-fraud scoring on ONNX Runtime (CPU), pipeline %s%n%n", pipelineFile);

        List<Map<String, Object>> transactions = transactions(records, 42);
        try (Scorer<Object, Object> scorer = Pipeline.load(pipelineFile)) {
            // Warm up so the numbers below show steady-state latency, not class loading.
            for (int i = 0; i < 2_000; i++) {
                scorer.score(transactions.get(i % transactions.size()));
            }
            for (int i = 0; i < 3; i++) {
                scorer.scoreAll(transactions.subList(0, Math.min(1_000, transactions.size())));
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
            Arrays.sort(nanos);
            System.out.printf(Locale.ROOT, "%nScored %,d transactions one at a time (Scorer.score): %,d flagged for review.%n",
                    nanos.length, flagged);
            System.out.printf(Locale.ROOT, "Latency per record: p50 %.1f us, p99 %.1f us, max %.1f us%n",
                    percentile(nanos, 0.50) / 1e3, percentile(nanos, 0.99) / 1e3, nanos[nanos.length - 1] / 1e3);

            long start = System.nanoTime();
            List<Outcome<Object>> batch = scorer.scoreAll(transactions);
            long batchNanos = System.nanoTime() - start;
            long ok = batch.stream().filter(Outcome::isSuccess).count();
            System.out.printf(Locale.ROOT, "Scored them again as one batch (Scorer.scoreAll): %,d ok in %.1f ms (%.2f us per record)%n",
                    ok, batchNanos / 1e6, batchNanos / 1e3 / batch.size());

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
