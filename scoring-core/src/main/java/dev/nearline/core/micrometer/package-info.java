/**
 * Micrometer binding of Nearline's metrics; needs {@code io.micrometer:micrometer-core} on the class path
 * (an optional dependency of scoring-core).
 */
@NullMarked
package dev.nearline.core.micrometer;

import org.jspecify.annotations.NullMarked;
