package dev.nearline.durable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.nearline.durable.internal.ServiceBusReplySender;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Functions app's connection strings (replies, payload store) never appear in the messages or causes of the
 * errors that malformed ones raise, nor in the payload store's {@code toString}.
 */
class SecretScanningTest {
    private static final String KEY = "SbKey77c1" + "Qw9";
    private static final String SIG = "SiGn4tur3Zz1";

    private static List<String> messages(Throwable t) {
        List<String> out = new ArrayList<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            out.add(c.toString());
        }
        return out;
    }

    @Test
    void replySender_malformedConnectionString_errorNamesThePartNotTheKey() {
        for (String cs : List.of("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;" + KEY,
                "SharedAccessKeyName=root;SharedAccessKey=" + KEY,
                "Endpoint=not a url " + KEY + ";SharedAccessKeyName=root;SharedAccessKey=" + KEY)) {
            Throwable t = catchThrowable(() -> new ServiceBusReplySender(cs).close());

            assertThat(t).as(cs).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reply connection string");
            assertThat(messages(t)).noneMatch(m -> m.contains(KEY));
        }
    }

    @Test
    void blobStore_sasEndpoint_toStringAndErrorsWithoutTheSignature() {
        BlobPayloadStore store = BlobPayloadStore.connect("BlobEndpoint=https://acct.blob.core.windows.net;"
                + "SharedAccessSignature=sv=2022-11-02&ss=b&sig=" + SIG, null, null, "payloads", Duration.ofSeconds(1));
        assertThat(store.toString()).contains("acct.blob.core.windows.net").doesNotContain(SIG);

        Throwable t = catchThrowable(() -> BlobPayloadStore.connect("AccountName=acct;SharedAccessSignature=sig=" + SIG
                + ";Bogus", null, null, "payloads", Duration.ofSeconds(1)));
        assertThat(t).isInstanceOf(IllegalArgumentException.class);
        assertThat(messages(t)).noneMatch(m -> m.contains(SIG));
    }
}
