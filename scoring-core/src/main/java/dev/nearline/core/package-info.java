/**
 * The Nearline engine: build a {@link dev.nearline.api.Scorer} in code with
 * {@link dev.nearline.core.Pipeline#builder} or from a JSON pipeline file with
 * {@link dev.nearline.core.Pipeline#load}, with plugins found by {@link dev.nearline.core.PluginRegistry}.
 */
@NullMarked
package dev.nearline.core;

import org.jspecify.annotations.NullMarked;
