package dev.nearline.core.internal;

import static dev.nearline.core.internal.JsonFixtures.node;
import static dev.nearline.core.internal.JsonFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.nearline.api.ScoringException.Kind;
import dev.nearline.api.ScoringException;
import dev.nearline.api.Tensors;
import dev.nearline.api.Ticker;
import dev.nearline.core.testing.FakeTicker;
import dev.nearline.core.testing.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The built-in preprocessors as {@link BoundedPreprocessor}s: they look at the record's deadline every so
 * many fields or elements (not per element), fail with DEADLINE_EXCEEDED once it has passed mid-record,
 * and never look when the record has no deadline.
 */
class BoundedPreprocessorTest {
    private static final int FIELDS = 1000;

    /** A ticker whose time moves on by 1 ms every time it is read, counting the reads. */
    private static final class SteppingTicker implements Ticker {
        final FakeTicker time = new FakeTicker(0);
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public long read() {
            reads.incrementAndGet();
            long now = time.read();
            time.advance(Duration.ofMillis(1));
            return now;
        }
    }

    private static FeaturesPreprocessor features(int fields) {
        StringBuilder json = new StringBuilder("{\"type\": \"json-features\", \"fields\": [");
        for (int i = 0; i < fields; i++) {
            json.append(i == 0 ? "" : ", ").append("{\"name\": \"f").append(i).append("\"}");
        }
        JsonSettings s = settings("$.preprocessor", json.append("]}").toString());
        FeaturesPreprocessor p = (FeaturesPreprocessor) new FeaturesPreprocessor.Provider().create(s);
        s.markRead("type");
        s.checkAllRead();
        return p;
    }

    private static Map<String, Object> record(int fields) {
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < fields; i++) {
            r.put("f" + i, i);
        }
        return r;
    }

    private static TensorsJson.Reader tensors() {
        JsonSettings s = settings("$.preprocessor", "{\"type\": \"tensors\"}");
        TensorsJson.Reader r = (TensorsJson.Reader) new TensorsJson.PreProvider().create(s);
        s.markRead("type");
        s.checkAllRead();
        return r;
    }

    private static Map<String, Object> tensorRecord(int n) {
        List<Float> data = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            data.add((float) i);
        }
        return Map.of("inputs", List.of(Map.of("name", "x", "datatype", "FP32", "shape", List.of(1, n), "data", data)));
    }

    private static ScoringException deadlineExceeded(ThrowingCallable call) {
        ScoringException e = catchThrowableOfType(ScoringException.class, call);
        assertThat(e).as("expected a ScoringException").isNotNull();
        assertThat(e.kind()).isEqualTo(Kind.DEADLINE_EXCEEDED);
        return e;
    }

    @Test
    void features_deadlinePassesMidRecord_failsWithDeadlineExceeded() {
        FeaturesPreprocessor p = features(FIELDS);
        SteppingTicker ticker = new SteppingTicker();
        long deadline = Duration.ofMillis(3).toNanos();

        ScoringException e = deadlineExceeded(() -> p.preprocess(record(FIELDS), ticker, deadline));

        assertThat(e.getMessage()).contains("deadline", "json-features");
        // 1000 fields, looked at every 64: the fourth look (3 ms) is past the deadline.
        assertThat(ticker.reads.get()).isEqualTo(4);
    }

    @Test
    void features_deadlineNotReached_scoresAndLooksEverySoManyFields() {
        FeaturesPreprocessor p = features(FIELDS);
        SteppingTicker ticker = new SteppingTicker();

        Tensors t = p.preprocess(record(FIELDS), ticker, Duration.ofSeconds(1).toNanos());

        assertThat(t.get(0).size()).isEqualTo(FIELDS);
        assertThat(ticker.reads.get()).isEqualTo(FIELDS / 64);
    }

    @Test
    void features_noDeadline_neverReadsTheTicker() {
        FeaturesPreprocessor p = features(FIELDS);
        Ticker failing = () -> {
            throw new AssertionError("the ticker was read");
        };

        assertThat(p.preprocess(record(FIELDS), failing, BoundedPreprocessor.NO_DEADLINE)).isEqualTo(p.preprocess(record(FIELDS)));
    }

    @Test
    void features_deadlinePassesWhileParsingLargeText_failsAfterTheParse() {
        FeaturesPreprocessor p = features(1);
        SteppingTicker ticker = new SteppingTicker();
        ticker.time.advance(Duration.ofMillis(10));
        String large = "{\"f0\": 1, \"pad\": \"" + "p".repeat(200_000) + "\"}";

        deadlineExceeded(() -> p.preprocess(large, ticker, Duration.ofMillis(5).toNanos()));
        assertThat(p.preprocess(large, ticker, BoundedPreprocessor.NO_DEADLINE).get(0).floatAt(0)).isEqualTo(1f);
    }

    @Test
    void features_cyclicValueInAFieldNotConfigured_isNeverWalked() {
        FeaturesPreprocessor p = features(1);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("self", a);

        ScoringException e = catchThrowableOfType(ScoringException.class,
                () -> p.preprocess(Map.of("f0", 1, "f1", a), new SteppingTicker(), Duration.ofHours(1).toNanos()));

        // f1 is not a configured field, so it is never walked.
        assertThat(e).isNull();
    }

    @Test
    void features_maxDepth_countsTextMapAndTreeRecordsAlike() {
        JsonSettings s = settings("$.preprocessor", "{\"maxDepth\": 3, \"fields\": [{\"name\": \"c\", \"categories\": [\"x\"]}]}");
        FeaturesPreprocessor p = FeaturesPreprocessor.create(s);
        String fits = "{\"c\": {\"a\": [1]}}";
        String tooDeep = "{\"c\": {\"a\": [[1]]}}";

        // The record is level 1: {"a": [1]} under it reaches level 3.
        assertThat(p.preprocess(fits).get(0).floatAt(0)).isZero();
        assertThat(p.preprocess(node(fits)).get(0).floatAt(0)).isZero();
        assertThat(p.preprocess(Map.of("c", Map.of("a", List.of(1)))).get(0).floatAt(0)).isZero();
        assertThat(p.preprocess(Map.of("c", Map.of("a", new int[] {1}))).get(0).floatAt(0)).isZero();
        for (Object record : new Object[] {tooDeep, node(tooDeep), Map.of("c", Map.of("a", List.of(List.of(1)))),
                Map.of("c", Map.of("a", List.of(new int[] {1})))}) {
            assertThat(JsonFixtures.invalidInput(() -> p.preprocess(record)).getMessage())
                    .as("%s", record.getClass()).contains("nests more than 3 levels deep", "maxDepth");
        }
    }

    @Test
    void tensors_deadlinePassesMidRecord_failsWithDeadlineExceeded() {
        TensorsJson.Reader r = tensors();
        SteppingTicker ticker = new SteppingTicker();
        Map<String, Object> record = tensorRecord(100_000);

        ScoringException e = deadlineExceeded(() -> r.preprocess(record, ticker, Duration.ofMillis(5).toNanos()));

        assertThat(e.getMessage()).contains("deadline", "tensors");
        assertThat(ticker.reads.get()).isEqualTo(6);
    }

    @Test
    void tensors_deadlineNotReached_looksAboutOncePerThousandElements() {
        TensorsJson.Reader r = tensors();
        SteppingTicker ticker = new SteppingTicker();

        Tensors t = r.preprocess(tensorRecord(100_000), ticker, Duration.ofHours(1).toNanos());

        assertThat(t.get(0).size()).isEqualTo(100_000);
        // A few passes over 100,000 elements (check, build, read), one look per 1024 units of work: hundreds of
        // looks, not one per element.
        assertThat(ticker.reads.get()).isBetween(100_000 / 1024, 8 * 100_000 / 1024);
    }

    @Test
    void tensors_jsonNodeRecordWithDeadline_honoursIt() {
        TensorsJson.Reader r = tensors();
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 50_000; i++) {
            data.append(i == 0 ? "" : ",").append(i);
        }
        Object record = node("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"INT32\", \"shape\": [50000], \"data\": ["
                + data + "]}]}");

        deadlineExceeded(() -> r.preprocess(record, new SteppingTicker(), Duration.ofMillis(2).toNanos()));
        assertThat(r.preprocess(record).get(0).size()).isEqualTo(50_000);
    }
}
