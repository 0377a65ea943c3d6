package dev.skydeck;

import java.util.Objects;

/**
 * GPUs of one instance: their model, in SkyPilot's accelerator names ({@code H100},
 * {@code A100-80GB}, {@code L4}), and how many the instance has.
 *
 * @param model the GPU model, never blank
 * @param count GPUs per instance, at least 1 (fractional GPUs count as 1)
 */
public record GpuType(String model, int count) {
    /** Validates the fields. */
    public GpuType {
        Objects.requireNonNull(model, "model");
        if (model.isBlank()) {
            throw new IllegalArgumentException("GPU model must not be blank");
        }
        if (count < 1) {
            throw new IllegalArgumentException("GPU count must be at least 1, not " + count);
        }
    }

    /** SkyPilot's accelerator spelling, {@code model:count} (for example {@code H100:8}). */
    public String accelerator() {
        return model + ":" + count;
    }
}
