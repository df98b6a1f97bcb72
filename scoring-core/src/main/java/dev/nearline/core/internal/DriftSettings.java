package dev.nearline.core.internal;

import dev.nearline.api.spi.Settings;
import dev.nearline.core.DriftMonitor.Reference;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Reads the {@code "monitoring"} object of a pipeline file into drift monitor options: each key's type and
 * range, with errors that name its JSON path ({@code $.monitoring.window: expected a positive integer, got
 * 0}). The options themselves, and the rules shared with the builder, are {@link DriftOptions}'.
 */
public final class DriftSettings {

    private DriftSettings() {
    }

    /**
     * The monitor {@code factory} makes of the options in {@code s}.
     *
     * @throws IllegalArgumentException naming the JSON path of a bad value; a window the factory cannot
     *     allocate is reported at {@code window}
     */
    public static <M> M read(Settings s, Function<DriftConfig, M> factory) {
        DriftOptions o = new DriftOptions();
        if (s.has("features")) {
            o.features(s.string("features"));
        }
        List<String> names = null;
        if (s.has("featureNames")) {
            names = s.strings("featureNames");
            String problem = DriftOptions.featureNamesProblem(names);
            if (problem != null) {
                throw s.error("featureNames", problem);
            }
            o.featureNames(names);
        }
        Settings score = s.optionalObject("score");
        if (score != null) {
            String output = score.string("output", null);
            int index = -1;
            if (score.has("index")) {
                index = score.integer("index");
                if (index < 0) {
                    throw score.error("index", "expected an element index of 0 or more, got " + index);
                }
            }
            o.scoreElement(output, index);
        }
        if (s.has("window")) {
            o.window(records(s, "window"));
        }
        if (s.has("captureReference")) {
            o.captureReference(records(s, "captureReference"));
        }
        if (s.has("bins")) {
            int n = s.integer("bins");
            if (!DriftOptions.validBins(n)) {
                throw s.error("bins", "expected an integer from 2 to " + DriftOptions.MAX_CAPTURED_BINS + ", got "
                        + n);
            }
            o.bins(n);
        }
        if (s.has("psiThreshold")) {
            double t = s.number("psiThreshold");
            if (!DriftOptions.validThreshold(t)) {
                throw s.error("psiThreshold", "expected a positive number such as 0.2, got " + t);
            }
            o.psiThreshold(t);
        }
        if (s.has("sampleEvery")) {
            o.sampleEvery(records(s, "sampleEvery"));
        }
        if (s.has("checkEvery")) {
            o.checkEvery(records(s, "checkEvery"));
        }
        Settings refs = s.optionalObject("reference");
        if (refs != null) {
            o.reference(references(refs, names));
        }
        try {
            return factory.apply(o.build());
        } catch (IllegalArgumentException e) {
            // Reference names were checked above: what is left is a window too large for memory.
            throw s.error("window", e.getMessage());
        }
    }

    /** The {@code reference} object: explicit references by feature name (or {@code score}). */
    private static Map<String, Reference> references(Settings refs, @Nullable List<String> names) {
        Map<String, Reference> map = new LinkedHashMap<>();
        for (String name : refs.keys()) {
            String problem = DriftOptions.referenceNameProblem(name, names);
            if (problem != null) {
                throw refs.error(name, problem);
            }
            Settings r = refs.object(name);
            double[] edges = toArray(r.numbers("edges"));
            double[] proportions = toArray(r.numbers("proportions"));
            DriftOptions.ReferenceProblem bad = DriftOptions.referenceProblem(edges, proportions);
            if (bad != null) {
                throw r.error(bad.key(), bad.message());
            }
            map.put(name, new Reference(edges, proportions));
        }
        return map;
    }

    /** A count of records: from 1 to {@link Ranges#MAX_MONITORING_RECORDS}. */
    private static int records(Settings s, String key) {
        int v = s.integer(key);
        if (v < 1) {
            throw s.error(key, "expected a positive integer, got " + v);
        }
        if (v > Ranges.MAX_MONITORING_RECORDS) {
            throw s.error(key, "must be between 1 and " + Ranges.MAX_MONITORING_RECORDS + ", got " + v);
        }
        return v;
    }

    private static double[] toArray(List<Double> list) {
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }
}
