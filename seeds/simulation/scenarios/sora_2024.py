"""``sora-2024``: the early-access program of a text-to-video model, its leak and suspension.

A few hundred invited artists in two cohorts (creative partners, red team) test the model for
weeks, every clip through the approval gate. Late in the program twenty of the artists, who
object that the program is unpaid R&D and PR, publish one tester's API access; for about three
hours anonymous outsiders generate clips through it at a rate no tester ever reached. The
platform's token watch notices and alerts the program admins, who suspend the program for
everyone, revoke the token, and resume the next morning. The artists who published the access
do not come back.

Calendar: the program opens on Monday 11 November 2024 at 08:00 UTC (with 21 days, the leak
falls on Tuesday 26 November, the day of the 2024 leak). The leak starts at about 14:00 UTC on
day ``min(days - 2, 0.75 * days)`` (counted from 0), so that a day at least follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

import audit
from seeds.simulation.agents.admins import IncidentPlan, ProgramAdmins
from seeds.simulation.agents.moderators import Moderator, ModeratorProfile
from seeds.simulation.agents.outsiders import Leak, LeakPlan
from seeds.simulation.agents.system import Beat
from seeds.simulation.agents.testers import Tester, TesterProfile, cohort_sizes
from seeds.simulation.interfaces import ApiClient, TesterApi, TesterServices
from seeds.simulation.media import OUTSIDER_FULL, OUTSIDER_TINY
from seeds.simulation.world import DAY_S, HOUR_S, MINUTE_S, World

NAME = "sora-2024"
START = datetime(2024, 11, 11, tzinfo=UTC)
OPENING_H = 8.0
LEAK_HOUR_UTC = 14.0
PROTESTERS = 20  # of 300 testers; as many in proportion in a smaller program (at least one)
PROGRAM_ADMINS = 2
SIMULATION = audit.SystemActor("simulation")
COHORTS = [
    ("creative-partners", "Creative partners",
     "Invited artists and filmmakers testing the tool for creative work."),
    ("red-team", "Red team", "Invited experts probing the tool for harms before release."),
]
# What the program admins set before the program opens: the token watch only alerts them
# (in 2024 access stayed open for about three hours before it was cut).
TOKEN_WATCH_POLICY = {"token_anomaly_action": "alert"}
# The address a scripting tester's requests come from (outsiders use RFC 5737 blocks).
API_TESTER_ADDRESS = "100.64.12.34"


def leak_day(days: int) -> int:
    return min(days - 2, int(days * 0.75))


@dataclass
class Run:
    """The agents of one run, for the summary."""

    world: World
    testers: list[Tester] = field(default_factory=list)
    moderators: list[Moderator] = field(default_factory=list)
    admins: ProgramAdmins | None = None
    leak: Leak | None = None
    victim: Tester | None = None
    study_id: int | None = None


def build(world: World) -> Run:
    """Create the run's agents and schedule the program's opening."""
    params = world.params
    run = Run(world)
    scale = min(1.0, max(0.3, params.testers / 300))
    world.beat = Beat(world)
    run.admins = ProgramAdmins(world, world.rng("admins"), IncidentPlan(
        alert_check_every_s=30 * MINUTE_S, investigation_median_s=2 * HOUR_S,
        public_report_after_s=2.5 * HOUR_S, resume_hour_utc=10.0))
    run.leak = Leak(world, world.rng("leak"), LeakPlan(
        peak_arrivals_per_hour=24 * scale, ramp_s=45 * MINUTE_S, campaign_s=3.5 * HOUR_S,
        generations_per_outsider=(1, 2),
        clip=OUTSIDER_TINY if params.media == "tiny" else OUTSIDER_FULL))
    index = 0
    for cohort, size in cohort_sizes(params.testers).items():
        for _ in range(size):
            rng = world.rng(f"tester/{index}")
            run.testers.append(Tester(world, TesterProfile.draw(rng, index, cohort,
                                                                params.activity), rng))
            index += 1
    creative = [tester for tester in run.testers if tester.profile.cohort == COHORTS[0][0]]
    world.rng("protesters").shuffle(creative)
    protesters = min(PROTESTERS, max(1, round(PROTESTERS * params.testers / 300)))
    for tester in creative[:protesters]:
        tester.profile.protester = True
    run.victim = creative[0] if creative else run.testers[0]
    run.victim.profile.uses_api = True
    run.moderators = [Moderator(world, ModeratorProfile.draw(world.rng(f"moderator/{i}"), i),
                                world.rng(f"moderator/{i}/work"))
                      for i in range(params.moderators)]
    world.at(OPENING_H * HOUR_S, lambda: _open_program(run))
    leak_at = (leak_day(params.days) * DAY_S + LEAK_HOUR_UTC * HOUR_S
               + world.rng("leak/start").uniform(0, 30) * MINUTE_S)
    world.at(leak_at, lambda: _leak(run))
    return run


# -- the opening ----------------------------------------------------------------------------

def _open_program(run: Run) -> None:
    from accounts.models import Role
    from accounts.selectors import program_get
    from accounts.services.invitations import invitation_create
    from accounts.services.users import cohort_create, terms_accept, user_create
    from review.services.taxonomy import taxonomy_install_defaults

    world, call = run.world, run.world.stats.call
    with transaction.atomic():
        audit.record("simulation.started", actor=SIMULATION, data={
            "scenario": NAME, "seed": world.params.seed,
            "parameters": world.params.to_dict()})
    cohorts = {slug: call("accounts.cohort_create", cohort_create, actor=SIMULATION, slug=slug,
                          name=name, description=description)
               for slug, name, description in COHORTS}
    call("review.taxonomy_install_defaults", taxonomy_install_defaults, actor=SIMULATION)
    for number in range(1, PROGRAM_ADMINS + 1):
        with transaction.atomic():
            admin = call("accounts.user_create", user_create, actor=SIMULATION,
                         username=f"admin-{number}", email=f"admin-{number}@sim.example.org",
                         password=_password(world, f"admin-{number}"),
                         roles=[Role.PROGRAM_ADMIN], cohort=cohorts["creative-partners"],
                         is_staff=True)
            terms_accept(actor=admin, version=program_get().terms_version)
        run.admins.users.append(admin)
    world.program_admins = run.admins.users
    _set_policy(run)

    admin = run.admins.lead
    for moderator in run.moderators:
        _, code = call("accounts.invitation_create", invitation_create, actor=admin,
                       cohort=cohorts["creative-partners"], role=Role.MODERATOR)
        moderator.user, _token = _redeem(world, code, moderator.profile.username)
        moderator.schedule_shifts()
    _, code = call("accounts.invitation_create", invitation_create, actor=admin,
                   cohort=cohorts["creative-partners"], role=Role.RESEARCHER)
    researcher, _token = _redeem(world, code, "researcher-1")
    run.study_id = _create_study(admin, researcher)

    joining = world.rng("joining")
    for tester in run.testers:
        _, code = call("accounts.invitation_create", invitation_create, actor=admin,
                       cohort=cohorts[tester.profile.cohort], role=Role.TESTER)
        world.after(joining.uniform(0, 4) * HOUR_S,
                    lambda tester=tester, code=code: _join(run, tester, code))
    run.admins.start()


def _password(world: World, username: str) -> str:
    # Never used to sign in; unguessable without the seed, and different for every account.
    return f"sim-{world.rng(f'password/{username}').getrandbits(96):024x}"


def _redeem(world: World, code: str, username: str):
    from accounts.services.invitations import invitation_redeem

    return world.stats.call("accounts.invitation_redeem", invitation_redeem, code=code,
                            username=username, email=f"{username}@sim.example.org",
                            password=_password(world, username), accept_terms=True)


def _join(run: Run, tester: Tester, code: str) -> None:
    world = run.world
    user, token = _redeem(world, code, tester.profile.username)
    tester.token = token.key
    if tester.profile.uses_api:
        tester.desk = TesterApi(ApiClient(world.stats, token.key, API_TESTER_ADDRESS),
                                world.clips)
    else:
        tester.desk = TesterServices(user, world.stats, world.clips)
    tester.first_session(world.now_s)


def _set_policy(run: Run) -> None:
    """The program's policy for the run: lease length and second-opinion rate from the
    parameters, and the token watch's action, set by the lead admin."""
    from accounts.services import program as program_services

    world = run.world
    world.stats.call("accounts.program_policy_update", program_services.program_policy_update,
                     actor=run.admins.lead, lease_seconds=world.params.lease_minutes * 60,
                     second_opinion_rate=float(world.params.second_opinion_rate),
                     **TOKEN_WATCH_POLICY)


def _create_study(admin, researcher) -> int:
    """The study the run's research datasets are exported for, as a program admin makes one
    in the admin (``audit.admin.StudyAdmin``)."""
    from audit.models import Study

    with transaction.atomic():
        study = Study.objects.create(
            slug="simulation", name="Simulation",
            description="The simulated program's own study: the datasets its run exports.")
        study.researchers.add(researcher)
        audit.record("research.study_saved", actor=admin, subject=study, data={
            "created": True, "researchers": [researcher.pk],
            "grants": {"identities": False, "free_text": False, "client_context": False}})
    return study.pk


# -- the leak -------------------------------------------------------------------------------

def _leak(run: Run) -> None:
    for tester in run.testers:
        if tester.profile.protester:
            tester.stopped = True  # they published the access and left the program
    run.leak.token = run.victim.token
    run.admins.leaked_token_owner = _user_of(run.victim)
    run.leak.begin()
    run.admins.leak_began()


def _user_of(tester: Tester):
    from accounts.models import User

    return User.objects.filter(username=tester.profile.username).first()
