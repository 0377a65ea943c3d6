package dev.skydeck.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.local.GpuSlots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuSlotsTest {
    private static final String NO_NVIDIA_SMI = "/nonexistent/nvidia-smi";

    @TempDir
    Path tmp;

    @Test
    void configuredCountWins() {
        assertThat(GpuSlots.resolve(2, Map.of("SKYDECK_LOCAL_GPUS", "4"), NO_NVIDIA_SMI))
                .isEqualTo(new GpuSlots(2, false, "configured"));
    }

    @Test
    void environmentVariableComesNext() {
        assertThat(GpuSlots.resolve(null, Map.of("SKYDECK_LOCAL_GPUS", " 4 "), NO_NVIDIA_SMI).count()).isEqualTo(4);
    }

    @Test
    void aBadEnvironmentVariableSaysWhatToSet() {
        assertThatThrownBy(() -> GpuSlots.resolve(null, Map.of("SKYDECK_LOCAL_GPUS", "lots"), NO_NVIDIA_SMI))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("SKYDECK_LOCAL_GPUS='lots'");
    }

    @Test
    void nvidiaSmiListingIsCounted() throws IOException {
        Path fake = tmp.resolve("nvidia-smi");
        Files.writeString(fake, "#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-1)'\necho 'GPU 1: NVIDIA H100 (UUID: GPU-2)'\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThat(GpuSlots.resolve(null, Map.of(), fake.toString())).isEqualTo(new GpuSlots(2, false, "nvidia-smi"));
    }

    @Test
    void withoutAnyGpuEightSlotsAreSimulated() {
        GpuSlots slots = GpuSlots.resolve(null, Map.of(), NO_NVIDIA_SMI);

        assertThat(slots.count()).isEqualTo(8);
        assertThat(slots.simulated()).isTrue();
    }
}
