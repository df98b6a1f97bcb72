/**
 * Test fixtures for plugin authors, published as scoring-core's test-jar: {@link
 * dev.nearline.core.testing.ModelContract}, the contract kit every {@link dev.nearline.api.Model} must pass,
 * a {@link dev.nearline.core.testing.FunctionModel} built from a lambda, and a
 * {@link dev.nearline.core.testing.RecordingScoringListener} that asserts listener events in order.
 */
package dev.nearline.core.testing;
