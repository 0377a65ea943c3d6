package dev.skydeck;

import dev.skydeck.internal.Validate;

/**
 * Where and on what an experiment runs. Every field is optional; {@code accelerator} is
 * detected from {@code instanceType} when empty (see {@link GpuCatalog}).
 *
 * @param cloud        {@code aws}, {@code gcp}, {@code azure}, {@code kubernetes}, … or {@code null}
 * @param region       a region of that cloud, or {@code null}
 * @param instanceType an instance type such as {@code p5.48xlarge}, or {@code null}
 * @param accelerator  a GPU model such as {@code H100}, or {@code null}
 * @param spot         whether to use spot/preemptible capacity
 * @param pool         a pool of warm workers to run on (SkyPilot pools: launches without provisioning), or
 *                     {@code null}
 */
public record Resources(String cloud, String region, String instanceType, String accelerator, boolean spot,
                        String pool) {
    /** No preference: let the backend choose. */
    public static final Resources ANY = new Resources(null, null, null, null, false, null);

    private static final String ALLOWED = "letters, digits and . _ : / + - (at most 100)";

    /** Validates every field. */
    public Resources {
        cloud = Validate.optional("cloud", cloud, Validate.RESOURCE, ALLOWED);
        region = Validate.optional("region", region, Validate.RESOURCE, ALLOWED);
        instanceType = Validate.optional("instance_type", instanceType, Validate.RESOURCE, ALLOWED);
        accelerator = Validate.optional("accelerator", accelerator, Validate.RESOURCE, ALLOWED);
        pool = Validate.optional("pool", pool, Validate.RESOURCE, ALLOWED);
    }

    /** Resources without a pool. */
    public Resources(String cloud, String region, String instanceType, String accelerator, boolean spot) {
        this(cloud, region, instanceType, accelerator, spot, null);
    }

    /** This with another cloud. */
    public Resources withCloud(String value) {
        return new Resources(value, region, instanceType, accelerator, spot, pool);
    }

    /** This with another region. */
    public Resources withRegion(String value) {
        return new Resources(cloud, value, instanceType, accelerator, spot, pool);
    }

    /** This with another instance type. */
    public Resources withInstanceType(String value) {
        return new Resources(cloud, region, value, accelerator, spot, pool);
    }

    /** This with another accelerator model. */
    public Resources withAccelerator(String value) {
        return new Resources(cloud, region, instanceType, value, spot, pool);
    }

    /** This with spot on or off. */
    public Resources withSpot(boolean value) {
        return new Resources(cloud, region, instanceType, accelerator, value, pool);
    }

    /** This with another pool ({@code null} for none). */
    public Resources withPool(String value) {
        return new Resources(cloud, region, instanceType, accelerator, spot, value);
    }
}
