/**
 * The types that users and plugins code against: {@link dev.nearline.api.Scorer}, the pipeline
 * stages ({@link dev.nearline.api.Preprocessor}, {@link dev.nearline.api.Model},
 * {@link dev.nearline.api.Transform}, {@link dev.nearline.api.Postprocessor}), the tensor value
 * types and {@link dev.nearline.api.ScoringException}. This package depends on the JDK only.
 */
@NullMarked
package dev.nearline.api;

import org.jspecify.annotations.NullMarked;
