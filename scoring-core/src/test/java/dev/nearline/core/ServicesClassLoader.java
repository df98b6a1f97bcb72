package dev.nearline.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A class loader that serves chosen {@code META-INF/services} files, one list of lines per "jar", and
 * hides every other services file; classes still load from the test class path.
 */
final class ServicesClassLoader extends ClassLoader {
    private static final String PREFIX = "META-INF/services/";
    private final Path dir;
    private final Map<String, List<URL>> services = new HashMap<>();
    private int files;

    ServicesClassLoader(Path dir) {
        super(ServicesClassLoader.class.getClassLoader());
        this.dir = dir;
    }

    /** Adds one services file for {@code service}, as if from one more jar. */
    ServicesClassLoader serve(Class<?> service, String... lines) {
        try {
            Path file = dir.resolve("services-" + (++files) + "-" + service.getSimpleName());
            Files.writeString(file, "# a comment, as real services files have\n" + String.join("\n", lines) + "\n");
            services.computeIfAbsent(service.getName(), k -> new ArrayList<>()).add(file.toUri().toURL());
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        if (name.startsWith(PREFIX)) {
            return Collections.enumeration(services.getOrDefault(name.substring(PREFIX.length()), List.of()));
        }
        return super.getResources(name);
    }
}
