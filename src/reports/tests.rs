use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn names_round_trip() {
    for r in Report::ALL {
        assert_eq!(Report::parse(r.name()), Some(r));
    }
    assert_eq!(Report::parse("weekly"), None);
}

#[test]
fn dates_are_strict() {
    assert_eq!(parse_date("2024-02-29").unwrap(), d("2024-02-29"));
    for bad in [
        "2023-02-29",
        "2024-13-01",
        "2024-1-05",
        "20240105",
        "yesterday",
        "",
    ] {
        let e = parse_date(bad).unwrap_err().to_string();
        assert!(e.contains("expected YYYY-MM-DD"), "{bad}: {e}");
        assert_eq!(e.lines().count(), 1);
    }
}

#[test]
fn ranges_default_to_thirty_days_ending_today() {
    let today = d("2024-03-31");
    let r = resolve_range(None, None, today).unwrap();
    assert_eq!((r.from, r.to, r.days()), (d("2024-03-02"), today, 30));
    let r = resolve_range(Some("2024-03-20"), None, today).unwrap();
    assert_eq!((r.from, r.to), (d("2024-03-20"), today));
    let r = resolve_range(Some("2024-01-01"), None, today).unwrap();
    assert_eq!((r.from, r.to), (d("2024-01-01"), d("2024-01-30")));
    let r = resolve_range(None, Some("2024-01-30"), today).unwrap();
    assert_eq!((r.from, r.to), (d("2024-01-01"), d("2024-01-30")));
    let r = resolve_range(Some("2024-01-05"), Some("2024-01-05"), today).unwrap();
    assert_eq!(r.days(), 1);
    let e = resolve_range(Some("2024-01-06"), Some("2024-01-05"), today).unwrap_err();
    assert_eq!(e.to_string(), "--from 2024-01-06 is after --to 2024-01-05");
    assert!(resolve_range(Some("1990-01-01"), Some("2024-01-05"), today).is_err());
}

#[test]
fn text_columns_align_and_csv_quotes() {
    let mut t = TextSink::new(Vec::new());
    t.header(Report::Staff.columns()).unwrap();
    t.row(&[Cell::Text("clerk".into()), Cell::Count(3), Cell::Count(12)])
        .unwrap();
    let out = String::from_utf8(t.into_inner()).unwrap();
    assert_eq!(
        out,
        "login              received  handed_over\n\
         clerk                     3           12\n"
    );
    let mut t = TextSink::new(Vec::new());
    t.header(Report::PickupTime.columns()).unwrap();
    t.row(&[Cell::Count(0), Cell::Hours(None), Cell::Hours(None)])
        .unwrap();
    let out = String::from_utf8(t.into_inner()).unwrap();
    assert_eq!(
        out,
        "picked_up  median_hours  p90_hours\n        0             -          -\n"
    );

    let mut c = CsvSink::new(Vec::new());
    c.header(Report::Carriers.columns()).unwrap();
    c.row(&[Cell::Text("a,b".into()), Cell::Count(1)]).unwrap();
    c.row(&[Cell::Text("ups".into()), Cell::Count(2)]).unwrap();
    let out = String::from_utf8(c.into_inner().unwrap()).unwrap();
    assert_eq!(out, "carrier,received\n\"a,b\",1\nups,2\n");
}

#[test]
fn csv_export_neutralises_formula_cells() {
    let mut c = CsvSink::new(Vec::new());
    c.header(Report::Staff.columns()).unwrap();
    let attacks = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\tcmd",
        "\r=1",
    ];
    for a in attacks {
        c.row(&[Cell::Text(a.into()), Cell::Count(-1), Cell::Count(2)])
            .unwrap();
    }
    c.row(&[
        Cell::Text("Ada O'Neil, B-2".into()),
        Cell::Count(0),
        Cell::Count(0),
    ])
    .unwrap();
    let out = String::from_utf8(c.into_inner().unwrap()).unwrap();
    assert_eq!(
        out,
        "login,received,handed_over\n\
         \"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-1,2\n\
         \"'+1+1\",-1,2\n\
         \"'-2+3\",-1,2\n\
         \"'@SUM(A1:A2)\",-1,2\n\
         \"'\tcmd\",-1,2\n\
         \"'\r=1\",-1,2\n\
         \"Ada O'Neil, B-2\",0,0\n",
        "text cells are neutralised; counts (server numbers) stay numbers"
    );
    // What a spreadsheet reads back: every attack cell starts with the quote.
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let firsts: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    for (got, a) in firsts.iter().zip(attacks) {
        assert_eq!(got, &format!("'{a}"));
    }
}

#[tokio::test]
async fn a_stream_sends_full_chunks_and_the_rest_on_request() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let buf = ChunkBuf::default();
    let mut stream = Stream::new(buf.clone(), tx);
    let mut sink = CsvSink::new(buf.clone());
    sink.header(Report::Daily.columns()).unwrap();
    let day = d("2020-01-01");
    let mut expected = CsvSink::new(Vec::new());
    expected.header(Report::Daily.columns()).unwrap();
    for i in 0..3000 {
        let row = [
            Cell::Date(day + chrono::Duration::days(i)),
            Cell::Count(i * 7),
            Cell::Count(i),
        ];
        sink.row(&row).unwrap();
        expected.row(&row).unwrap();
        stream.pump(&mut sink, false).await.unwrap();
    }
    sink.finish().unwrap();
    let mut chunks = Vec::new();
    while let Ok(c) = rx.try_recv() {
        chunks.push(c);
    }
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c.len() >= STREAM_CHUNK));
    assert!(!buf.is_empty(), "the last part waits for the caller");
    stream.pump(&mut sink, true).await.unwrap();
    chunks.push(rx.try_recv().unwrap());
    let all: Vec<u8> = chunks.concat();
    assert_eq!(all, expected.into_inner().unwrap());
    assert_eq!(stream.sent, all.len() as u64);
    // A client that went away stops the export with a clear error.
    drop(rx);
    sink.row(&[Cell::Date(day), Cell::Count(1), Cell::Count(1)])
        .unwrap();
    let e = stream.pump(&mut sink, true).await.unwrap_err();
    assert!(e.to_string().contains("went away"), "{e}");
}

#[test]
fn parcel_times_are_local_minutes_and_missing_ones_blank_or_dashed() {
    let t = NaiveDate::from_ymd_opt(2024, 1, 10)
        .unwrap()
        .and_hms_opt(22, 0, 59)
        .unwrap();
    let mut c = CsvSink::new(Vec::new());
    c.header(&Report::Parcels.columns()[..3]).unwrap();
    c.row(&[
        Cell::Time(Some(t)),
        Cell::Text("-1".into()),
        Cell::Time(None),
    ])
    .unwrap();
    let out = String::from_utf8(c.into_inner().unwrap()).unwrap();
    // A time is the server's own value: never neutralised; a tracking text is.
    assert_eq!(
        out,
        "received_at,tracking,carrier\n2024-01-10 22:00,\"'-1\",\n"
    );
    let mut t2 = TextSink::new(Vec::new());
    t2.header(&Report::Parcels.columns()[7..9]).unwrap();
    t2.row(&[Cell::Time(None), Cell::Text("Joan".into())])
        .unwrap();
    let out = String::from_utf8(t2.into_inner()).unwrap();
    assert_eq!(
        out,
        "picked_up_at      collected_by\n-                 Joan\n"
    );
    assert_eq!(Report::parse("parcels"), Some(Report::Parcels));
    assert!(
        !Report::ALL.contains(&Report::Parcels),
        "not a summary for the charts"
    );
}
