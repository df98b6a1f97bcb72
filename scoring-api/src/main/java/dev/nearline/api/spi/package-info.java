/**
 * The plugin SPI: providers found with {@link java.util.ServiceLoader} that create pipeline stages
 * from the settings of a JSON pipeline file. A plugin module lists its providers in
 * {@code META-INF/services/<provider interface name>}.
 */
@NullMarked
package dev.nearline.api.spi;

import org.jspecify.annotations.NullMarked;
