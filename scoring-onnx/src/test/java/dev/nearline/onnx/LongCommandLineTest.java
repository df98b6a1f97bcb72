package dev.nearline.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nearline.api.Tensor;
import dev.nearline.api.Tensors;
import dev.nearline.onnx.testing.DemoModels;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime 1.29.0's native start-up recurses in proportion to the process command line and overflows
 * a default thread stack once the command line is a few thousand characters long (a long class path, as
 * Maven and app servers build them), killing the JVM with SIGSEGV. scoring-onnx starts ONNX Runtime on a
 * thread with a large stack; this test runs a child JVM with a 20,000-character command line.
 */
class LongCommandLineTest {

    @Test
    void build_processWithVeryLongCommandLine_scoresInsteadOfCrashing(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String padding = "x".repeat(20_000);
        Path model = DemoModels.logistic(dir.resolve("tiny.onnx"), 4, 7);
        Path out = dir.resolve("out.txt");
        Process p = new ProcessBuilder(List.of(java, "-Dpadding=" + padding, "-cp",
                System.getProperty("java.class.path") + File.pathSeparator + System.getProperty("surefire.test.class.path", ""),
                Child.class.getName(), model.toString()))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM finished").isTrue();
        String printed = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("exit code; output:%n%s", printed).isZero();
        assertThat(printed).contains("scored ");
    }

    /** The child JVM: build the model and score one record. */
    public static final class Child {
        private Child() {
        }

        /** Entry point of the child JVM. */
        public static void main(String[] args) {
            try (OnnxModel model = OnnxModel.builder(Path.of(args[0])).build()) {
                Tensors out = model.predict(Tensors.of("input", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 1, 4)));
                System.out.println("scored " + out.get(0).floatAt(0));
            }
        }
    }
}
