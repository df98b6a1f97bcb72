package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves a {@link FakeModel} open, closes one more than once, or closes one while a call
 * is running in it. Tests run one at a time (the surefire default), so one global list suffices.
 */
public final class ModelLeakChecker implements BeforeEachCallback, AfterEachCallback {

    @Override
    public void beforeEach(ExtensionContext context) {
        FakeModel.drainCreated();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<FakeModel> created = FakeModel.drainCreated();
        for (FakeModel m : created) {
            assertThat(m.closeCalls).as("%s closed exactly once", m).hasValue(1);
            assertThat(m.closedWhileRunning()).as("%s closed while a call was running", m).isFalse();
        }
    }
}
