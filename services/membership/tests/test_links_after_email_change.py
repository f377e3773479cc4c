"""Once a new email address is confirmed, the links sent to the old one (the preference
centre, replies, another address change) stop working, with a page saying how to get a new
link; links sent afterwards work."""

from .conftest import join_and_confirm, last_card, token_of


async def change_email(client, app, token: str, new: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch("/v1/me", params={"token": token}, json={"email": new})
    assert r.status_code == 200, r.text
    card = await last_card(app)
    r = await client.post("/v1/email/confirm", json={"token": token_of(card["message"]["links"]["confirm"])})
    assert r.status_code == 200 and r.json()["email"] == new


async def test_links_sent_to_the_old_address_stop_working_once_the_new_one_is_confirmed(client, app) -> None:
    _member_id, old_token = await join_and_confirm(client, app)
    assert (await client.get("/v1/me", params={"token": old_token})).status_code == 200
    # A second change asked for from the old address, still unconfirmed when the first is confirmed.
    await client.patch("/v1/me", params={"token": old_token}, json={"email": "ada.other@example.org"})
    stale_change = token_of((await last_card(app))["message"]["links"]["confirm"])
    await change_email(client, app, old_token, "ada.new@example.org")

    r = await client.get("/v1/me", params={"token": old_token})
    assert r.status_code == 410 and r.json()["reason"] == "replaced" and "/v1/links" in r.json()["detail"]
    assert (await client.patch("/v1/me", params={"token": old_token}, json={"frequency": "never"})).status_code == 410
    assert (await client.post("/v1/me/erase", params={"token": old_token})).status_code == 410
    assert (await client.post("/v1/email/confirm", json={"token": stale_change})).json()["reason"] == "replaced"
    page = await client.get("/preferences", params={"token": old_token})
    assert page.status_code == 410
    assert "This link no longer works" in page.text and 'action="/link"' in page.text

    r = await client.post("/v1/links", json={"email": "ada.new@example.org"})
    fresh = token_of((await last_card(app, "ada.new@example.org"))["message"]["links"]["preferences"])
    me = await client.get("/v1/me", params={"token": fresh})
    assert me.status_code == 200 and me.json()["email"] == "ada.new@example.org"
