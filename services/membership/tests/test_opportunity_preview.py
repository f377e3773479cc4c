"""Before publishing, a team sees how many would be invited and their bands, and nothing is
sent; after, who was invited and where each stands, by member id and bands only."""

from .conftest import auth, events_of, join_and_confirm, outbox
from .test_groups_and_opportunities import opportunity


async def test_preview_counts_and_bands_without_inviting_anyone(client, app, keys) -> None:
    a, _ = await join_and_confirm(client, app, email="a@example.org", interests=["musculoskeletal"])
    b, _ = await join_and_confirm(
        client,
        app,
        email="b@example.org",
        interests=["dermatology"],
        demographics={"age_band": "16_24", "sex": "male", "ethnic_group": "asian_indian"},
    )
    await join_and_confirm(client, app, email="c@example.org", interests=[], demographics={"age_band": "65_74"})
    staged = len(await outbox(app)), len(await outbox(app, "membership.contacts"))

    r = await client.post("/v1/opportunities/preview", json=opportunity(), headers=auth(keys, "01A"))
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["invited"] == 2
    assert preview["bands"]["age_band"] == {"16_24": 2}
    assert preview["bands"]["sex"] == {"female": 1, "male": 1}
    assert preview["bands"]["ethnic_group"] == {"white_british": 1, "asian_indian": 1}
    assert "a@example.org" not in r.text and "Ada" not in r.text and a not in r.text
    # Nothing was published, invited or emailed.
    assert (len(await outbox(app)), len(await outbox(app, "membership.contacts"))) == staged
    assert (await client.get("/v1/opportunities", headers=auth(keys, "01A"))).json() == []

    # Checked as publishing is: field errors, another organisation, another area's practice.
    r = await client.post(
        "/v1/opportunities/preview", json=opportunity(location=None, online=False), headers=auth(keys, "01A")
    )
    assert r.status_code == 422 and "location: say where it is" in r.json()["errors"][0]["message"]
    assert (
        await client.post("/v1/opportunities/preview", json=opportunity(), headers=auth(keys, "02B"))
    ).status_code == 403
    outside = opportunity(targeting={"organisation_codes": ["P82001"]})
    r = await client.post("/v1/opportunities/preview", json=outside, headers=auth(keys, "01A"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "targeting.organisation_codes"

    # Published: the same two are invited, and the invitations list says where each stands.
    published = (await client.post("/v1/opportunities", json=opportunity(), headers=auth(keys, "01A"))).json()
    assert published["invited"] == 2 and published["location"] == "Northvale Community Centre"
    assert len(await events_of(app, "invitation.issued.v1")) == 2
    r = await client.get(f"/v1/opportunities/{published['id']}/invitations", headers=auth(keys, "01A"))
    assert r.status_code == 200, r.text
    listed = r.json()
    assert sorted(i["member_id"] for i in listed) == sorted([a, b])
    assert {i["place"] for i in listed} == {None} and not any(i["attended"] for i in listed)
    assert listed[0]["bands"]["age_band"] == "16_24" and "email" not in listed[0] and "name" not in listed[0]
    other = await client.get(f"/v1/opportunities/{published['id']}/invitations", headers=auth(keys, "02B"))
    assert other.status_code == 404
