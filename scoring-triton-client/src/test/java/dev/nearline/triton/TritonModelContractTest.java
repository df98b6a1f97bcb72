package dev.nearline.triton;

import dev.nearline.api.Model;
import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.core.testing.ModelContract;
import dev.nearline.triton.TritonModelIntegrationTest.Mode;
import dev.nearline.triton.server.KServeTestServer;
import dev.nearline.triton.server.SharedModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/** The Triton model keeps the Model contract on every transport, against the KServe v2 test server. */
class TritonModelContractTest {
    static KServeTestServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = KServeTestServer.start(SharedModels.backends(List.of("tribuo_iris_lr")));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** The kit over one transport. */
    abstract static class OverTransport extends ModelContract {
        abstract Mode mode();

        @Override
        protected Model newModel() {
            return TritonModelIntegrationTest.builder(server, mode(), "tribuo_iris_lr").build();
        }

        @Override
        protected List<Tensors> records(Model model, int n) {
            List<Tensors> records = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                records.add(Tensors.of("input", Tensor.ofFloats(new float[] {5.1f + i, 3.5f - 0.2f * i, 1.4f + i, 0.2f}, 1, 4)));
            }
            return records;
        }
    }

    @Nested
    class RestBinary extends OverTransport {
        @Override
        Mode mode() {
            return Mode.REST_BINARY;
        }
    }

    @Nested
    class RestJson extends OverTransport {
        @Override
        Mode mode() {
            return Mode.REST_JSON;
        }
    }

    @Nested
    class Grpc extends OverTransport {
        @Override
        Mode mode() {
            return Mode.GRPC;
        }
    }
}
