//! The demo facility's login instructions, printed by `serve --demo` and `admin demo`.

pub fn print_demo_login(seeded: &crate::admin::demo::Seeded) {
    use crate::admin::demo;
    if !seeded.created {
        println!("the database already has a facility; demo data not seeded");
        return;
    }
    println!(
        "demo facility `{}` seeded: users admin, clerk, viewer",
        demo::SLUG
    );
    println!("password for each: {}", demo::PASSWORD);
    for (login, uri) in &seeded.totp_uris {
        println!("TOTP for {login}: {uri}");
    }
    for key in &seeded.local_keys {
        println!("registered your key for admin and clerk: {key}");
    }
}
