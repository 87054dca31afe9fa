//! Who a person is in an organisation; what each role may do is `auth::permissions`.
use crate::code_enum;

code_enum! {
    /// A person's role. `admin` is the system administrator and belongs to no organisation.
    pub enum Role {
        Admin = "admin",
        OrgAdmin = "org_admin",
        Leader = "leader",
        Coordinator = "coordinator",
        Member = "member",
        Viewer = "viewer",
    }
}
