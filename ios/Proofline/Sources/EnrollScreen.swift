// Enroll: "Enrollment code" (typed, or scanned from the QR code a supervisor shows), the
// server address, and "Join site". The core's refusal is shown verbatim.

import AVFoundation
import ProoflineKit
import SwiftUI
import UIKit

struct EnrollScreen: View {
    @ObservedObject var model: Observed<EnrollViewModel>
    let join: () async -> Void
    @State private var scanning = false

    private var vm: EnrollViewModel { model.value }

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    TextField(Copy.enrollmentCode, text: Binding(get: { vm.code }, set: { vm.code = $0 }))
                        .textInputAutocapitalization(.characters)
                        .autocorrectionDisabled()
                        .font(.title3.monospaced())
                        .fieldTapTarget()
                        .accessibilityLabel(Copy.enrollmentCode)
                    Button {
                        scanning = true
                    } label: {
                        Label(Copy.scanCode, systemImage: "qrcode.viewfinder")
                            .fieldTapTarget()
                    }
                    .accessibilityHint("Scans the enrollment code with the camera")
                } header: {
                    Text(Copy.enrollmentCode)
                }

                Section {
                    TextField(Copy.serverAddress, text: Binding(get: { vm.server }, set: { vm.server = $0 }))
                        .keyboardType(.URL)
                        .textInputAutocapitalization(.never)
                        .autocorrectionDisabled()
                        .fieldTapTarget()
                        .accessibilityLabel(Copy.serverAddress)
                    TextField(Copy.deviceName, text: Binding(get: { vm.deviceName }, set: { vm.deviceName = $0 }))
                        .fieldTapTarget()
                        .accessibilityLabel(Copy.deviceName)
                } header: {
                    Text(Copy.serverAddress)
                }

                if let error = vm.error {
                    Section {
                        ErrorText(error: error)
                    }
                }

                Section {
                    Button {
                        Task { await join() }
                    } label: {
                        HStack {
                            Spacer()
                            if vm.isJoining {
                                ProgressView()
                            } else {
                                Text(Copy.joinSite).font(.headline)
                            }
                            Spacer()
                        }
                        .fieldTapTarget()
                    }
                    .disabled(!vm.canJoin)
                    .accessibilityLabel(Copy.joinSite)
                }
            }
            .navigationTitle(Copy.enroll)
            .sheet(isPresented: $scanning) {
                CodeScanner { payload in
                    vm.scanned(payload)
                    scanning = false
                }
                .ignoresSafeArea()
            }
        }
    }
}

/// A QR code scanner (AVFoundation metadata output).
struct CodeScanner: UIViewControllerRepresentable {
    let found: (String) -> Void

    func makeUIViewController(context: Context) -> ScannerController {
        let controller = ScannerController()
        controller.found = found
        return controller
    }

    func updateUIViewController(_ controller: ScannerController, context: Context) {}

    final class ScannerController: UIViewController, AVCaptureMetadataOutputObjectsDelegate {
        var found: ((String) -> Void)?
        private let session = AVCaptureSession()
        private var preview: AVCaptureVideoPreviewLayer?

        override func viewDidLoad() {
            super.viewDidLoad()
            view.backgroundColor = .black
            view.accessibilityLabel = "Camera: point it at the enrollment code"
            guard let camera = AVCaptureDevice.default(for: .video),
                  let input = try? AVCaptureDeviceInput(device: camera),
                  session.canAddInput(input)
            else { return }
            session.addInput(input)
            let output = AVCaptureMetadataOutput()
            guard session.canAddOutput(output) else { return }
            session.addOutput(output)
            output.setMetadataObjectsDelegate(self, queue: .main)
            output.metadataObjectTypes = [.qr]
            let layer = AVCaptureVideoPreviewLayer(session: session)
            layer.videoGravity = .resizeAspectFill
            view.layer.addSublayer(layer)
            preview = layer
        }

        override func viewDidLayoutSubviews() {
            super.viewDidLayoutSubviews()
            preview?.frame = view.bounds
        }

        override func viewWillAppear(_ animated: Bool) {
            super.viewWillAppear(animated)
            let session = self.session
            DispatchQueue.global(qos: .userInitiated).async { session.startRunning() }
        }

        override func viewWillDisappear(_ animated: Bool) {
            super.viewWillDisappear(animated)
            session.stopRunning()
        }

        func metadataOutput(
            _ output: AVCaptureMetadataOutput, didOutput objects: [AVMetadataObject],
            from connection: AVCaptureConnection
        ) {
            guard let code = objects.compactMap({ ($0 as? AVMetadataMachineReadableCodeObject)?.stringValue }).first
            else { return }
            session.stopRunning()
            UINotificationFeedbackGenerator().notificationOccurred(.success)
            found?(code)
        }
    }
}
