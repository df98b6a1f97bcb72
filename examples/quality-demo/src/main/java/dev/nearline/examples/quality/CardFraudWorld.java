package dev.nearline.examples.quality;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The labelled data of the demo, made here: card transactions whose features follow one distribution from
 * start to end, and whose fraud labels follow one of two patterns. Before the change, fraud is the classic
 * kind the production model learned (large amounts, card not present, abroad, far from home, at risky
 * merchants); after it, most fraud is card testing (bursts of small card-not-present payments at fuel and
 * grocery merchants, at night, on young accounts), which the production model ranks the wrong way. The inputs
 * do not move, so drift monitoring stays quiet; only the labels tell that the model got worse.
 *
 * <p>Features, in the order of {@code quality-pipeline.json}: amount, hour, six merchant categories one-hot,
 * card present, foreign, transactions in the last hour, km from home, account age in days.
 */
final class CardFraudWorld {
    static final String[] CATEGORIES = {"grocery", "restaurant", "fuel", "electronics", "travel", "gambling"};
    static final int FEATURES = 13;

    /** The production model: the classic fraud pattern, as it was learned from history. */
    static final float[] CHAMPION_WEIGHTS = {
        0.006f,                                   // amount
        0.0f,                                     // hour
        -0.8f, -0.6f, -0.4f, 0.7f, 0.5f, 1.2f,    // grocery, restaurant, fuel, electronics, travel, gambling
        -1.2f,                                    // card present
        1.3f,                                     // foreign
        0.5f,                                     // transactions in the last hour
        0.01f,                                    // km from home
        -0.0008f,                                 // account age, days
    };
    static final float CHAMPION_BIAS = -3.4f;

    private CardFraudWorld() {
    }

    /** One transaction: its feature row and the record the pipeline reads. */
    record Transaction(String id, float[] x, Map<String, Object> record) {
    }

    /** {@code n} transactions, the same for the same seed; ids {@code <prefix>-000001}, .... */
    static List<Transaction> transactions(int n, long seed, String prefix) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Transaction> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double amount = Math.min(5_000, Math.exp(3.6 + 1.1 * gaussian(rnd)));
            int hour = rnd.nextInt(24);
            int category = rnd.nextInt(CATEGORIES.length);
            boolean present = rnd.nextDouble() < 0.6;
            boolean foreign = rnd.nextDouble() < 0.12;
            int lastHour = geometric(rnd, 0.55);
            double km = Math.min(5_000, -40 * Math.log(1 - rnd.nextDouble()));
            int ageDays = rnd.nextInt(30, 3_000);
            float[] x = new float[FEATURES];
            x[0] = (float) round(amount);
            x[1] = hour;
            x[2 + category] = 1;
            x[8] = present ? 1 : 0;
            x[9] = foreign ? 1 : 0;
            x[10] = lastHour;
            x[11] = (float) round(km);
            x[12] = ageDays;
            String id = String.format(Locale.ROOT, "%s-%06d", prefix, i + 1);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("txId", id);
            r.put("amount", x[0]);
            r.put("hour", hour);
            r.put("merchantCategory", CATEGORIES[category]);
            r.put("cardPresent", present);
            r.put("foreign", foreign);
            r.put("txLastHour", lastHour);
            r.put("distanceKm", x[11]);
            r.put("accountAgeDays", ageDays);
            out.add(new Transaction(id, x, r));
        }
        return out;
    }

    /** The probability that {@code x} is fraud: the classic pattern before the change, mostly card testing after. */
    static double fraudProbability(float[] x, boolean changed) {
        double classic = sigmoid(logit(CHAMPION_WEIGHTS, CHAMPION_BIAS, x));
        if (!changed) {
            return classic;
        }
        double night = x[1] < 6 ? 1 : 0;
        double cardTesting = sigmoid(-1.7 - 0.05 * x[0] + 2.0 * x[4] + 1.5 * x[2] - 2.0 * x[8] + 0.8 * x[10]
                + 1.8 * night - 0.0015 * x[12]);
        double fewerClassic = classic * 0.2; // the bank's rules now stop most of the old pattern
        return 1 - (1 - fewerClassic) * (1 - cardTesting);
    }

    /** The label of {@code x}: fraud with its probability, from its own random stream. */
    static int label(float[] x, boolean changed, SplittableRandom rnd) {
        return rnd.nextDouble() < fraudProbability(x, changed) ? 1 : 0;
    }

    static double logit(float[] w, float b, float[] x) {
        double s = b;
        for (int i = 0; i < w.length; i++) {
            s += w[i] * x[i];
        }
        return s;
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    private static int geometric(SplittableRandom rnd, double p) {
        int k = 0;
        while (k < 12 && rnd.nextDouble() > p) {
            k++;
        }
        return k;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /**
     * A logistic regression fitted to labelled rows by full-batch gradient descent on standardised features (the
     * standardisation is folded back into the weights, so the model reads raw features like the champion):
     * how the team's retrained challenger is made from recent labels. Returns the weights, then the bias last.
     */
    static float[] fit(List<float[]> rows, int[] labels, int epochs, double learningRate, double l2) {
        int n = rows.size();
        double[] mean = new double[FEATURES];
        double[] sd = new double[FEATURES];
        for (float[] r : rows) {
            for (int j = 0; j < FEATURES; j++) {
                mean[j] += r[j] / n;
            }
        }
        for (float[] r : rows) {
            for (int j = 0; j < FEATURES; j++) {
                sd[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / n;
            }
        }
        for (int j = 0; j < FEATURES; j++) {
            sd[j] = sd[j] > 0 ? Math.sqrt(sd[j]) : 1;
        }
        double[] w = new double[FEATURES];
        double b = 0;
        double[] z = new double[FEATURES];
        for (int epoch = 0; epoch < epochs; epoch++) {
            double[] gw = new double[FEATURES];
            double gb = 0;
            for (int i = 0; i < n; i++) {
                float[] r = rows.get(i);
                double s = b;
                for (int j = 0; j < FEATURES; j++) {
                    z[j] = (r[j] - mean[j]) / sd[j];
                    s += w[j] * z[j];
                }
                double err = sigmoid(s) - labels[i];
                for (int j = 0; j < FEATURES; j++) {
                    gw[j] += err * z[j] / n;
                }
                gb += err / n;
            }
            for (int j = 0; j < FEATURES; j++) {
                w[j] -= learningRate * (gw[j] + l2 * w[j]);
            }
            b -= learningRate * gb;
        }
        float[] out = new float[FEATURES + 1];
        double bias = b;
        for (int j = 0; j < FEATURES; j++) {
            out[j] = (float) (w[j] / sd[j]);
            bias -= w[j] * mean[j] / sd[j];
        }
        out[FEATURES] = (float) bias;
        return out;
    }
}
