//! `ids::uuid_v5` is `Uuid::new_v5` bit for bit: the ids are part of the sync contract.

use proofline_core::ids::uuid_v5;
use proptest::prelude::*;
use uuid::Uuid;

proptest! {
    #[test]
    fn uuid_v5_matches_the_uuid_crate(namespace in any::<u128>(), name in proptest::collection::vec(any::<u8>(), 0..200)) {
        let namespace = Uuid::from_u128(namespace);
        prop_assert_eq!(uuid_v5(&namespace, &name), Uuid::new_v5(&namespace, &name));
    }
}

#[test]
fn uuid_v5_of_a_known_name() {
    // RFC 9562's DNS namespace and "www.example.com" (its appendix A.4 example).
    assert_eq!(
        uuid_v5(&Uuid::NAMESPACE_DNS, b"www.example.com").to_string(),
        "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    );
}
