package dev.nearline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nearline.api.Model;
import dev.nearline.api.Postprocessor;
import dev.nearline.api.Preprocessor;
import dev.nearline.api.Transform;
import dev.nearline.api.spi.ModelProvider;
import dev.nearline.api.spi.PostprocessorProvider;
import dev.nearline.api.spi.PreprocessorProvider;
import dev.nearline.api.spi.Settings;
import dev.nearline.api.spi.TransformProvider;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginRegistryTest {
    @TempDir
    Path dir;

    /** A model provider whose create() must never run during discovery. */
    public abstract static class FakeModelProvider implements ModelProvider {
        @Override
        public Model create(Settings settings) {
            throw new AssertionError("discovery must not create models");
        }
    }

    public static final class FakeAlphaProvider extends FakeModelProvider {
        @Override
        public String type() {
            return "alpha";
        }
    }

    public static final class FakeBetaProvider extends FakeModelProvider {
        @Override
        public String type() {
            return "beta";
        }
    }

    public static final class FakeOtherAlphaProvider extends FakeModelProvider {
        @Override
        public String type() {
            return "alpha";
        }
    }

    public static final class FakeUnavailableGpuProvider extends FakeModelProvider {
        @Override
        public String type() {
            return "gpu";
        }

        @Override
        public boolean isAvailable() {
            return false;
        }

        @Override
        public String unavailableReason() {
            return "CUDA 12 not found; add dev.nearline:scoring-onnx with -Pgpu";
        }
    }

    public static final class FakeBrokenConstructorProvider extends FakeModelProvider {
        public FakeBrokenConstructorProvider() {
            throw new IllegalStateException("native library missing");
        }

        @Override
        public String type() {
            return "broken";
        }
    }

    public static final class FakeThrowingTypeProvider extends FakeModelProvider {
        @Override
        public String type() {
            throw new IllegalStateException("no type today");
        }
    }

    public static final class FakeNullTypeProvider extends FakeModelProvider {
        @Override
        public String type() {
            return null;
        }
    }

    public static final class FakeUpperPreprocessorProvider implements PreprocessorProvider {
        @Override
        public String type() {
            return "upper";
        }

        @Override
        public Preprocessor<Object> create(Settings settings) {
            throw new AssertionError();
        }
    }

    public static final class FakeLabelPostprocessorProvider implements PostprocessorProvider {
        @Override
        public String type() {
            return "label";
        }

        @Override
        public Postprocessor<Object> create(Settings settings) {
            throw new AssertionError();
        }
    }

    public static final class FakeCastTransformProvider implements TransformProvider {
        @Override
        public String type() {
            return "cast";
        }

        @Override
        public Transform create(Settings settings) {
            throw new AssertionError();
        }
    }

    private ServicesClassLoader loader() {
        return new ServicesClassLoader(dir);
    }

    @Test
    void discover_fakeProviders_findsEachUnderItsTypeSorted() {
        PluginRegistry r = PluginRegistry.discover(loader()
                .serve(ModelProvider.class, FakeBetaProvider.class.getName(), FakeAlphaProvider.class.getName())
                .serve(PreprocessorProvider.class, FakeUpperPreprocessorProvider.class.getName())
                .serve(PostprocessorProvider.class, FakeLabelPostprocessorProvider.class.getName())
                .serve(TransformProvider.class, FakeCastTransformProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("alpha", "beta");
        assertThat(r.modelProvider("beta")).isInstanceOf(FakeBetaProvider.class);
        assertThat(r.hasModelType("alpha")).isTrue();
        assertThat(r.hasModelType("upper")).isFalse();
        assertThat(r.preprocessorTypes()).containsExactly("upper");
        assertThat(r.preprocessorProvider("upper")).isInstanceOf(FakeUpperPreprocessorProvider.class);
        assertThat(r.postprocessorTypes()).containsExactly("label");
        assertThat(r.postprocessorProvider("label")).isInstanceOf(FakeLabelPostprocessorProvider.class);
        assertThat(r.transformTypes()).containsExactly("cast");
        assertThat(r.hasTransformType("cast")).isTrue();
        assertThat(r.transformProvider("cast")).isInstanceOf(FakeCastTransformProvider.class);
    }

    @Test
    void discover_sameClassInTwoJars_isOneProvider() {
        PluginRegistry r = PluginRegistry.discover(loader()
                .serve(ModelProvider.class, FakeAlphaProvider.class.getName())
                .serve(ModelProvider.class, FakeAlphaProvider.class.getName()));

        assertThat(r.modelProvider("alpha")).isInstanceOf(FakeAlphaProvider.class);
    }

    @Test
    void modelProvider_twoProvidersOfOneType_failsNamingBothClasses() {
        PluginRegistry r = PluginRegistry.discover(loader()
                .serve(ModelProvider.class, FakeAlphaProvider.class.getName())
                .serve(ModelProvider.class, FakeOtherAlphaProvider.class.getName(), FakeBetaProvider.class.getName()));

        assertThatThrownBy(() -> r.modelProvider("alpha"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'alpha'")
                .hasMessageContaining(FakeAlphaProvider.class.getName())
                .hasMessageContaining(FakeOtherAlphaProvider.class.getName());
        assertThat(r.modelProvider("beta")).isInstanceOf(FakeBetaProvider.class);
    }

    @Test
    void modelProvider_unknownType_failsListingFoundTypes() {
        PluginRegistry r = PluginRegistry.discover(loader()
                .serve(ModelProvider.class, FakeAlphaProvider.class.getName(), FakeBetaProvider.class.getName()));

        assertThatThrownBy(() -> r.modelProvider("gamma"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no model provider of type 'gamma'")
                .hasMessageContaining("[alpha, beta]")
                .hasMessageNotContaining("add the dependency");
    }

    @Test
    void modelProvider_onnxMissing_failsNamingArtifactToAdd() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class, FakeAlphaProvider.class.getName()));

        assertThatThrownBy(() -> r.modelProvider("onnx"))
                .hasMessageContaining("'onnx'")
                .hasMessageContaining("[alpha]")
                .hasMessageContaining("dev.nearline:scoring-onnx");
        assertThatThrownBy(() -> r.modelProvider("triton")).hasMessageContaining("dev.nearline:scoring-triton-client");
    }

    @Test
    void discover_servicesFileNamesMissingClass_findsOthersAndReportsBrokenOne() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                "dev.nearline.core.NoSuchProvider", FakeAlphaProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("alpha");
        assertThatThrownBy(() -> r.modelProvider("beta"))
                .hasMessageContaining("failed to load")
                .hasMessageContaining("dev.nearline.core.NoSuchProvider");
    }

    @Test
    void discover_providerConstructorThrows_findsOthersAndReportsWhy() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                FakeBrokenConstructorProvider.class.getName(), FakeBetaProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("beta");
        assertThatThrownBy(() -> r.modelProvider("broken"))
                .hasMessageContaining(FakeBrokenConstructorProvider.class.getName())
                .hasMessageContaining("native library missing");
    }

    @Test
    void discover_typeThrows_findsOthersAndReportsBrokenOne() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                FakeThrowingTypeProvider.class.getName(), FakeAlphaProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("alpha");
        assertThatThrownBy(() -> r.modelProvider("x"))
                .hasMessageContaining(FakeThrowingTypeProvider.class.getName())
                .hasMessageContaining("no type today");
    }

    @Test
    void discover_typeReturnsNull_findsOthersAndReportsBrokenOne() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                FakeNullTypeProvider.class.getName(), FakeAlphaProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("alpha");
        assertThatThrownBy(() -> r.modelProvider("x")).hasMessageContaining(FakeNullTypeProvider.class.getName());
    }

    @Test
    void discover_classOfWrongService_reportedAsBroken() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                FakeUpperPreprocessorProvider.class.getName(), FakeAlphaProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("alpha");
        assertThatThrownBy(() -> r.modelProvider("upper"))
                .hasMessageContaining(FakeUpperPreprocessorProvider.class.getName());
    }

    @Test
    void modelProvider_unavailable_failsWithItsReason() {
        PluginRegistry r = PluginRegistry.discover(loader().serve(ModelProvider.class,
                FakeUnavailableGpuProvider.class.getName()));

        assertThat(r.modelTypes()).containsExactly("gpu");
        assertThatThrownBy(() -> r.modelProvider("gpu"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'gpu'")
                .hasMessageContaining(FakeUnavailableGpuProvider.class.getName())
                .hasMessageContaining("is unavailable: CUDA 12 not found");
    }

    @Test
    void preprocessorProvider_unknownType_failsListingPreprocessorTypes() {
        PluginRegistry r = PluginRegistry.discover(loader()
                .serve(PreprocessorProvider.class, FakeUpperPreprocessorProvider.class.getName())
                .serve(ModelProvider.class, FakeAlphaProvider.class.getName()));

        assertThatThrownBy(() -> r.preprocessorProvider("alpha"))
                .hasMessageContaining("no preprocessor provider of type 'alpha'")
                .hasMessageContaining("[upper]");
        assertThatThrownBy(() -> r.postprocessorProvider("x")).hasMessageContaining("no postprocessor provider");
        assertThatThrownBy(() -> r.transformProvider("x")).hasMessageContaining("no transform provider");
    }

    @Test
    void discover_noServicesFiles_isEmpty() {
        PluginRegistry r = PluginRegistry.discover(loader());

        assertThat(r.modelTypes()).isEmpty();
        assertThat(r.preprocessorTypes()).isEmpty();
        assertThatThrownBy(() -> r.modelProvider("onnx")).hasMessageContaining("found []");
    }

    @Test
    void discover_default_findsBuiltInProcessorsAndTestProviders() {
        PluginRegistry r = PluginRegistry.discover();

        assertThat(r.preprocessorTypes()).contains("json-features", "tensors");
        assertThat(r.postprocessorTypes()).contains("classes", "score", "tensors");
        assertThat(r.modelTypes()).contains("fake-linear", "fake-softmax", "fake-echo");
        assertThat(r.transformTypes()).contains("fake-scale");
    }

    @Test
    void discover_default_alsoSearchesContextClassLoader() {
        Thread thread = Thread.currentThread();
        ClassLoader saved = thread.getContextClassLoader();
        thread.setContextClassLoader(loader().serve(ModelProvider.class, FakeBetaProvider.class.getName()));
        try {
            PluginRegistry r = PluginRegistry.discover();

            assertThat(r.modelTypes()).contains("beta", "fake-linear");
        } finally {
            thread.setContextClassLoader(saved);
        }
    }
}
