// The shell's presentation logic with no Android dependency: screen models (Enroll,
// Attention, Check, Review, Sync), formatting, notification plans. Depends only on the
// generated bindings and the JDK. Its JUnit 5 tests run against the real core library and a
// real proofline-server (scripts/test-android runs the same tests with kotlinc in CI).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.kotlin.jvm)
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

val rustRoot = rootProject.extra["rustRoot"] as File

dependencies {
    api(project(":bindings"))
    // The bindings' classes reference JNA types; the app gets JNA's aar through :core.
    compileOnly(libs.jna)
    testImplementation(libs.jna)
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

val cargoBuildServer by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds proofline-server (the tests start it on the loopback)."
    workingDir = rustRoot
    commandLine("cargo", "build", "--locked", "-p", "proofline-server")
}

tasks.test {
    useJUnitPlatform()
    dependsOn(cargoBuildServer, ":bindings:cargoBuildHost")
    systemProperty("jna.library.path", rustRoot.resolve("target/debug").path)
    environment("PROOFLINE_SERVER_BIN", rustRoot.resolve("target/debug/proofline-server").path)
    environment(
        "PROOFLINE_PHOTO",
        System.getenv("PROOFLINE_PHOTO") ?: rustRoot.resolve("../shared/fixtures/photos/forest-4032x3024-orient6.jpg").path,
    )
}
