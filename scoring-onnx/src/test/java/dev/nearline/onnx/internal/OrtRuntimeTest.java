package dev.nearline.onnx.internal;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class-path check that refuses both ONNX Runtime artifacts at once. */
class OrtRuntimeTest {
    @TempDir
    Path dir;

    private Path fakeJar(String name, String... resources) throws Exception {
        Path root = dir.resolve(name);
        for (String r : resources) {
            Path file = root.resolve(r);
            Files.createDirectories(file.getParent());
            Files.write(file, new byte[] {1});
        }
        return root;
    }

    private static URLClassLoader loader(Path... roots) throws Exception {
        URL[] urls = new URL[roots.length];
        for (int i = 0; i < roots.length; i++) {
            urls[i] = roots[i].toUri().toURL();
        }
        return new URLClassLoader(urls, null);
    }

    @Test
    void checkSingleRuntime_cpuAndGpuArtifacts_failsNamingBoth() throws Exception {
        Path cpu = fakeJar("cpu", OrtRuntime.CPU_POM, OrtRuntime.nativeLibraryResource());
        Path gpu = fakeJar("gpu", OrtRuntime.GPU_POM);

        try (URLClassLoader l = loader(cpu, gpu)) {
            assertThatThrownBy(() -> OrtRuntime.checkSingleRuntime(l))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("more than one ONNX Runtime on the class path")
                    .hasMessageContaining("keep exactly one")
                    .hasMessageContaining(cpu + "/")
                    .hasMessageContaining(gpu + "/");
        }
    }

    @Test
    void checkSingleRuntime_twoNativeLibraries_fails() throws Exception {
        Path a = fakeJar("a", OrtRuntime.nativeLibraryResource());
        Path b = fakeJar("b", OrtRuntime.nativeLibraryResource());

        try (URLClassLoader l = loader(a, b)) {
            assertThatThrownBy(() -> OrtRuntime.checkSingleRuntime(l)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void checkSingleRuntime_oneArtifact_passes() throws Exception {
        Path gpu = fakeJar("gpu", OrtRuntime.GPU_POM, OrtRuntime.nativeLibraryResource());

        try (URLClassLoader l = loader(gpu)) {
            assertThatCode(() -> OrtRuntime.checkSingleRuntime(l)).doesNotThrowAnyException();
        }
        assertThatCode(() -> OrtRuntime.checkSingleRuntime(OrtRuntimeTest.class.getClassLoader()))
                .doesNotThrowAnyException();
    }
}
