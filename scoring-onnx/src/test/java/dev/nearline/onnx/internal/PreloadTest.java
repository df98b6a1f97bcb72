package dev.nearline.onnx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The classes {@link Preload} loads during the native start-up still exist, and it stops when the start-up ends. */
class PreloadTest {

    @Test
    void classes_everyNameExistsOnTheClassPath() {
        List<String> missing = new ArrayList<>();
        for (String name : Preload.CLASSES) {
            try {
                Class.forName(name, false, getClass().getClassLoader());
            } catch (ClassNotFoundException e) {
                missing.add(name);
            }
        }
        assertThat(missing).as("renamed or removed classes: update Preload.CLASSES").isEmpty();
        assertThat(new HashSet<>(List.of(Preload.CLASSES))).as("no duplicates").hasSize(Preload.CLASSES.length);
    }

    @Test
    void whileAlive_startUpAlreadyDone_loadsNothing() throws InterruptedException {
        Thread done = new Thread(() -> { });
        done.start();
        done.join(10_000);

        assertThat(Preload.whileAlive(done, getClass().getClassLoader())).isZero();
    }

    @Test
    void whileAlive_startUpRunning_loadsEveryClassAndSkipsMissingOnes() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        Thread running = new Thread(() -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        running.start();
        try {
            ClassLoader withoutCore = new ClassLoader(getClass().getClassLoader()) {
                @Override
                protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                    if (name.startsWith("dev.nearline.core.")) {
                        throw new ClassNotFoundException(name);
                    }
                    return super.loadClass(name, resolve);
                }
            };
            long core = List.of(Preload.CLASSES).stream().filter(n -> n.startsWith("dev.nearline.core.")).count();

            assertThat(Preload.whileAlive(running, getClass().getClassLoader())).isEqualTo(Preload.CLASSES.length);
            assertThat(Preload.whileAlive(running, withoutCore)).isEqualTo(Preload.CLASSES.length - core);
        } finally {
            release.countDown();
            running.join(10_000);
        }
    }
}
