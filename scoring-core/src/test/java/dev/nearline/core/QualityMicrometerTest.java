package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.core.QualityFixtures.Rec;
import dev.nearline.core.micrometer.MicrometerListener;
import dev.nearline.core.testing.FakeTicker;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The quality metrics through Micrometer, per version, with the challenger beside the champion. */
@ExtendWith(ModelLeakChecker.class)
class QualityMicrometerTest {

    @Test
    void micrometerListener_exportsQualityPerVersionAndTheChallenger_fromOneSnapshotPerSecond() {
        MockClock clock = new MockClock();
        SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);
        QualityMonitor quality = QualityMonitor.builder().build();
        FakeTicker ticker = new FakeTicker();
        try (ManagedScorer<Rec, Float> scorer = Pipeline.builder(QualityFixtures.PRE).name("fraud").ticker(ticker)
                .listener(new MicrometerListener(registry, "fraud"))
                .model("m", QualityFixtures.echo()).quality(quality, Rec::id)
                .challenger(Challenger.builder().model("m", QualityFixtures.echo()).sample(1.0).build())
                .build(out -> out.get(0).floatAt(0))) {
            scorer.score(new Rec("a", 0.9f));
            scorer.score(new Rec("b", 0.2f));
            QualityFixtures.await("both compared", () -> quality.snapshot().challenger().scored() == 2,
                    Duration.ofSeconds(10));
            quality.feedback("a", 1);
            quality.feedback("b", 0);
            quality.feedback("c", 1);
            clock.add(Duration.ofSeconds(1)); // the meters read a snapshot at most a second old

            assertThat(registry.get("nearline.quality.auc").tags("pipeline", "fraud", "version", "1", "window", "records",
                    "model", "champion").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("nearline.quality.auc").tags("version", "1", "model", "challenger", "window",
                    "records").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("nearline.quality.labelled").tags("version", "1", "model", "champion_sampled",
                    "window", "period").gauge().value()).isEqualTo(2);
            assertThat(registry.get("nearline.quality.labels").tag("outcome", "joined").functionCounter().count())
                    .isEqualTo(2);
            assertThat(registry.get("nearline.quality.labels").tag("outcome", "unknown").functionCounter().count())
                    .isEqualTo(1);
            assertThat(registry.get("nearline.challenger.records").tag("outcome", "scored").functionCounter().count())
                    .isEqualTo(2);
            assertThat(registry.get("nearline.challenger.agreement").tag("version", "1").gauge().value()).isEqualTo(1.0);
            assertThat(registry.find("nearline.quality.mae").gauges()).as("regression metrics only for a regression")
                    .isEmpty();

            scorer.swapModel("m", QualityFixtures.echo());
            scorer.score(new Rec("d", 0.6f)); // the first record of version 2 registers its meters
            clock.add(Duration.ofSeconds(1));
            assertThat(registry.get("nearline.quality.labelled").tags("version", "2", "window", "records", "model",
                    "champion").gauge().value()).isZero();
            quality.feedback("d", 1);
            assertThat(registry.get("nearline.quality.labelled").tags("version", "2", "window", "records", "model",
                    "champion").gauge().value()).as("cached until the clock moves").isZero();
            clock.add(Duration.ofSeconds(1));
            assertThat(registry.get("nearline.quality.labelled").tags("version", "2", "window", "records", "model",
                    "champion").gauge().value()).isEqualTo(1);
        }
    }
}
