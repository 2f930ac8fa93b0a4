// The Rust core for Android: libproofline_ffi.so for arm64-v8a, armeabi-v7a and x86_64
// built by cargo-ndk into src/main/jniLibs, JNA's Android build (aar), and the generated
// Kotlin bindings (:bindings) as its API.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

val rustRoot = rootProject.extra["rustRoot"] as File
val jniLibsDir = layout.projectDirectory.dir("src/main/jniLibs")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "app.proofline.core.android"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    sourceSets {
        getByName("main") {
            jniLibs.srcDir(jniLibsDir)
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

// cargo-ndk builds the cdylib per ABI straight into jniLibs/<abi>/. The size-optimised
// profile of scripts/bindings --release (docs/bindings.md), given as --config overrides of
// the release profile so the workspace's own release builds are unchanged.
val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libproofline_ffi.so for ${abis.joinToString()} with cargo-ndk into src/main/jniLibs."
    workingDir = rustRoot
    // cargo-ndk finds the NDK through ANDROID_NDK_HOME: the one this module pins (ndkVersion).
    val ndkDir = androidComponents.sdkComponents.ndkDirectory
    doFirst { environment("ANDROID_NDK_HOME", ndkDir.get().asFile.absolutePath) }
    val targets = abis.flatMap { listOf("-t", it) }
    commandLine(
        listOf("cargo", "ndk") + targets + listOf(
            "--platform", libs.versions.minSdk.get(),
            "-o", jniLibsDir.asFile.path,
            "build", "--locked", "--release", "-p", "proofline-ffi", "--lib",
            "--config", "profile.release.opt-level=\"s\"",
            "--config", "profile.release.lto=\"fat\"",
            "--config", "profile.release.codegen-units=1",
            "--config", "profile.release.strip=true",
            "--config", "profile.release.package.proofline-core.opt-level=3",
            "--config", "profile.release.package.zune-jpeg.opt-level=3",
            "--config", "profile.release.package.jpeg-encoder.opt-level=3",
            "--config", "profile.release.package.sha2.opt-level=3",
        ),
    )
    inputs.files(fileTree(rustRoot.resolve("core/src")), fileTree(rustRoot.resolve("bindings/src")))
    inputs.file(rustRoot.resolve("Cargo.lock"))
    outputs.dir(jniLibsDir)
}

tasks.named("preBuild") {
    dependsOn(cargoNdkBuild)
}

dependencies {
    api(project(":bindings"))
    // JNA with its Android native dispatch libraries.
    api(libs.jna) {
        artifact { type = "aar" }
    }
}
