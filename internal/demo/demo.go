// Package demo seeds the demonstration district 示范区: three schools (one vocational,
// with departments), homerooms, about 200 students per school and one user per role.
// It refuses to run in production and does nothing when the district exists.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/appointment"
	"github.com/xinqiao/xinqiao/internal/casefile"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/library"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/program"
	"github.com/xinqiao/xinqiao/internal/referral"
	"github.com/xinqiao/xinqiao/internal/rollup"
	"github.com/xinqiao/xinqiao/internal/roster"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/screening"
	"github.com/xinqiao/xinqiao/internal/tenant"
)

// Password is every demo user's password.
const Password = "xinqiao-demo"

// DistrictCode identifies the demo district.
const DistrictCode = "demo"

// Login is one demo login, for printing.
type Login struct{ Username, Role, Scope string }

type schoolPlan struct {
	name, code, kind string
	units            map[string][]string // grade/department -> homerooms
	order            []string
}

var plans = []schoolPlan{
	{"示范区第一中学", "s1", tenant.K12, map[string][]string{
		"七年级": {"七(1)班", "七(2)班"}, "八年级": {"八(1)班", "八(2)班"}, "九年级": {"九(1)班", "九(2)班"},
	}, []string{"七年级", "八年级", "九年级"}},
	{"示范区实验小学", "s2", tenant.K12, map[string][]string{
		"四年级": {"四(1)班", "四(2)班"}, "五年级": {"五(1)班", "五(2)班"}, "六年级": {"六(1)班", "六(2)班"},
	}, []string{"四年级", "五年级", "六年级"}},
	{"示范区职业技术学校", "s3", tenant.Vocational, map[string][]string{
		"机电专业科": {"机电2401班", "机电2402班"}, "信息技术专业科": {"信息2401班", "信息2402班"}, "财经专业科": {"财经2401班", "财经2402班"},
	}, []string{"机电专业科", "信息技术专业科", "财经专业科"}},
}

// Seeder writes the demo data through the domain services, so every write is audited
// and checked like any other.
type Seeder struct {
	DB       *database.DB
	Identity *identity.Service
	Tenants  *tenant.Service
	Roster   *roster.Service
	// ReloadPolicy makes the authorizer see the memberships just written.
	ReloadPolicy func() error
	// StudentsPerSchool defaults to 200.
	StudentsPerSchool int
	// Screening, when set, opens a demo screening campaign with a few answered sheets
	// (and so a critical-item alert in the counselor's queue).
	Screening *screening.Service
	// Referrals, when set, adds the demo partner institutions.
	Referrals *referral.Service
	// Library, when set, also seeds a few district library entries (make run; tests start
	// from an empty library).
	Library bool
	// Programs, when set, also seeds a current term, a published district plan and some
	// school activities (make run); tests leave it nil.
	Programs *program.Service
	// CaseFiles, when set, records five months of counseling sessions in every school
	// (case files of about a third of the students), so the district dashboard has
	// trends to chart (make run); Rollups then computes and publishes the statistics at
	// once instead of waiting for the worker.
	CaseFiles *casefile.Service
	Rollups   *rollup.Service
	// Prefix, when set, seeds a second district: its code is the prefix, its name is
	// 示范区-<prefix>, school codes and usernames start with "<prefix>.". Tests use it.
	Prefix string
}

func (s *Seeder) name(base string) string {
	if s.Prefix == "" {
		return base
	}
	return s.Prefix + "." + base
}

// Seed creates the demo district unless it exists. It returns the demo logins.
func (s *Seeder) Seed(ctx context.Context) ([]Login, bool, error) {
	var exists bool
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM auth_login_lookup($1))`, s.name("district.admin")).Scan(&exists)
	})
	if err != nil {
		return nil, false, err
	}
	if exists {
		return Logins(), false, nil
	}
	districtID := uuid.Must(uuid.NewV7())
	sys := scope.Actor{DistrictID: districtID, Kind: scope.District, Username: "system:seed"}
	dname, dcode := "示范区", DistrictCode
	if s.Prefix != "" {
		dname, dcode = "示范区-"+s.Prefix, s.Prefix
	}
	_, admin, err := s.Tenants.BootstrapDistrict(ctx, sys, dname, dcode, s.Identity,
		identity.NewUser{Username: s.name("district.admin"), DisplayName: "区管理员", Password: Password})
	if err != nil {
		return nil, false, fmt.Errorf("district: %w", err)
	}
	if err := s.ReloadPolicy(); err != nil {
		return nil, false, err
	}
	a := scope.Actor{UserID: admin.ID, Username: admin.Username, DistrictID: districtID, Kind: scope.District, Roles: []string{scope.DistrictAdmin}}
	// The demo keeps plain password logins: MFA is optional in the demo district (a
	// district administrator turns the requirement on in 安全设置, see README).
	if _, err := s.Identity.SaveSecuritySettings(ctx, a, districtID, identity.SecuritySettings{MFARequired: false}); err != nil {
		return nil, false, fmt.Errorf("security settings: %w", err)
	}
	grant := func(username, display, role string, school *uuid.UUID, homeroom *uuid.UUID) error {
		username = s.name(username)
		u, err := s.Identity.CreateUser(ctx, a, districtID, identity.NewUser{Username: username, DisplayName: display, Password: Password})
		if err != nil {
			return fmt.Errorf("user %s: %w", username, err)
		}
		kind := scope.District
		if school != nil {
			kind = scope.School
		}
		g := identity.Grant{UserID: u.ID, ScopeType: kind, SchoolID: school, Role: role, HomeroomID: homeroom}
		if _, err := s.Identity.GrantMembership(ctx, a, g); err != nil {
			return fmt.Errorf("membership %s: %w", username, err)
		}
		return nil
	}
	if err := grant("district.supervisor", "区督导", scope.DistrictSupervisor, nil, nil); err != nil {
		return nil, false, err
	}
	if err := grant("researcher", "研究人员", scope.Researcher, nil, nil); err != nil {
		return nil, false, err
	}
	seed, offset := uint64(2026), 0
	if s.Prefix != "" {
		seed, offset = seed+uint64(len(s.Prefix))*7919+uint64(s.Prefix[0]), 5
	}
	rng := rand.New(rand.NewPCG(seed, 11))
	n := s.StudentsPerSchool
	if n <= 0 {
		n = 200
	}
	var schoolIDs []uuid.UUID
	for i, p := range plans {
		kind := p.kind
		if s.Prefix != "" {
			p.code = s.Prefix + "-" + p.code
			p.name = p.name + "-" + s.Prefix
		}
		sc, err := s.Tenants.CreateSchool(ctx, a, districtID, tenant.SchoolInput{Name: &p.name, Code: &p.code, Kind: &kind})
		if err != nil {
			return nil, false, fmt.Errorf("school %s: %w", p.code, err)
		}
		schoolIDs = append(schoolIDs, sc.ID)
		var firstHomeroom uuid.UUID
		unitKind := tenant.Grade
		if p.kind == tenant.Vocational {
			unitKind = tenant.Department
		}
		var rows []roster.Row
		for gi, g := range p.order {
			pos := gi
			gu, err := s.Tenants.CreateOrgUnit(ctx, a, sc.ID, tenant.OrgUnitInput{Kind: unitKind, Name: g, Position: &pos})
			if err != nil {
				return nil, false, fmt.Errorf("unit %s: %w", g, err)
			}
			for hi, h := range p.units[g] {
				pos := hi
				hu, err := s.Tenants.CreateOrgUnit(ctx, a, sc.ID, tenant.OrgUnitInput{Kind: tenant.Homeroom, ParentID: &gu.ID, Name: h, Position: &pos})
				if err != nil {
					return nil, false, fmt.Errorf("unit %s: %w", h, err)
				}
				if firstHomeroom == uuid.Nil {
					firstHomeroom = hu.ID
				}
			}
		}
		homerooms := 0
		for _, g := range p.order {
			homerooms += len(p.units[g])
		}
		for k := 0; k < n; k++ {
			hIdx := k % homerooms
			var grade, homeroom string
			for _, g := range p.order {
				if hIdx < len(p.units[g]) {
					grade, homeroom = g, p.units[g][hIdx]
					break
				}
				hIdx -= len(p.units[g])
			}
			rows = append(rows, student(rng, i+1+offset, k+1, grade, homeroom, p.kind))
		}
		school := sc.ID
		for _, u := range []struct{ name, display, role string }{
			{"counselor", "心理辅导教师", scope.Counselor}, {"leader", "分管校长", scope.SchoolLeader},
			{"teacher", "班主任", scope.HomeroomTeacher}, {"liaison", "心理委员", scope.PeerLiaison},
		} {
			var hr *uuid.UUID
			if u.role == scope.HomeroomTeacher || u.role == scope.PeerLiaison {
				hr = &firstHomeroom
			}
			if err := grant(fmt.Sprintf("%s.s%d", u.name, i+1), fmt.Sprintf("%s（%s）", u.display, p.name), u.role, &school, hr); err != nil {
				return nil, false, err
			}
		}
		leader, err := s.leaderActor(ctx, s.name(fmt.Sprintf("leader.s%d", i+1)), districtID, school)
		if err != nil {
			return nil, false, err
		}
		if _, err := s.Roster.Import(ctx, leader, school, rows, roster.ImportOptions{}); err != nil {
			if fe, ok := fault.As(err); ok && len(fe.Fields) > 0 {
				return nil, false, fmt.Errorf("students of %s: %v (%d errors)", p.code, fe.Fields[0], len(fe.Fields))
			}
			return nil, false, fmt.Errorf("students of %s: %w", p.code, err)
		}
		room := &appointment.Service{DB: s.DB}
		if _, err := room.SetOpeningHours(ctx, leader, school, OpeningHours()); err != nil {
			return nil, false, fmt.Errorf("opening hours of %s: %w", p.code, err)
		}
	}
	if s.Library {
		lib := &library.Service{DB: s.DB}
		for _, in := range DemoLibrary() {
			if _, err := lib.Add(ctx, a, districtID, in); err != nil {
				return nil, false, fmt.Errorf("library: %w", err)
			}
		}
	}
	if s.Referrals != nil {
		for _, x := range DemoInstitutions {
			name, kind, contact, services, direct := x.Name, x.Kind, x.Contact, x.Services, x.Direct
			if _, err := s.Referrals.CreateInstitution(ctx, a, districtID, referral.InstitutionInput{Name: &name, Kind: &kind, Contact: &contact,
				Services: &services, AcceptsDirect: &direct}); err != nil {
				return nil, false, fmt.Errorf("institution %s: %w", name, err)
			}
		}
	}
	if s.Screening != nil {
		if err := s.seedScreening(ctx, a, districtID); err != nil {
			return nil, false, fmt.Errorf("screening: %w", err)
		}
	}
	if err := s.seedNotifications(ctx, a, districtID); err != nil {
		return nil, false, fmt.Errorf("notifications: %w", err)
	}
	if s.Programs != nil {
		if err := s.seedPrograms(ctx, a, districtID, schoolIDs); err != nil {
			return nil, false, fmt.Errorf("programs: %w", err)
		}
	}
	if s.CaseFiles != nil {
		if err := s.seedSessions(ctx, districtID, schoolIDs, rng); err != nil {
			return nil, false, fmt.Errorf("sessions: %w", err)
		}
	}
	if s.Rollups != nil {
		if _, err := s.Rollups.Refresh(ctx); err != nil {
			return nil, false, fmt.Errorf("rollups: %w", err)
		}
	}
	return Logins(), true, nil
}

// seedNotifications turns e-mail reminders on for counselor.s1 and the district
// supervisor (addresses <username>@xinqiao.example, delivered to the local Mailpit by
// `make run`) and leaves each district user a hint in their district inbox.
func (s *Seeder) seedNotifications(ctx context.Context, admin scope.Actor, district uuid.UUID) error {
	ids := map[string]uuid.UUID{}
	err := s.DB.InTx(ctx, admin, func(tx pgx.Tx) error {
		for _, u := range []string{"district.admin", "district.supervisor", "researcher", "counselor.s1"} {
			var id uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE district_id = $1 AND username = $2`, district, s.name(u)).Scan(&id); err != nil {
				return err
			}
			ids[u] = id
		}
		for _, u := range []string{"district.admin", "district.supervisor", "researcher"} {
			if _, err := inbox.PostDistrict(ctx, tx, inbox.DistrictNotice{District: district, User: ids[u], Kind: "email_reminders_available",
				DedupeKey: "demo:email_reminders_available"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	on := true
	for _, u := range []string{"district.supervisor", "counselor.s1"} {
		email := s.name(u) + "@xinqiao.example"
		self := scope.Actor{UserID: ids[u], Username: s.name(u), DistrictID: district, Kind: scope.User}
		if _, err := (&notify.Service{DB: s.DB}).Save(ctx, self, notify.SettingsInput{Email: &email, EmailEnabled: &on}); err != nil {
			return err
		}
	}
	return nil
}

// seedScreening opens an autumn PHQ-9 + GAD-7 campaign for the junior grades of the
// K-12 schools, issues codes to the first homeroom of school 1 and answers three of
// them, one with PHQ-9 item 9 = 2 (a critical item).
func (s *Seeder) seedScreening(ctx context.Context, admin scope.Actor, district uuid.UUID) error {
	if _, err := s.Screening.SaveSettings(ctx, admin, district, screening.Settings{AlertDeadlineMinutes: 240, LeaderEscalationMinutes: 240,
		Thresholds:   map[string]string{"phq9": "moderately_severe", "gad7": "severe"},
		HelpContacts: "学校心理辅导室：午休及放学后开放；全国心理援助热线 12356；紧急情况请拨打 120 或 110。"}); err != nil {
		return err
	}
	var schools []uuid.UUID
	var firstHomeroom uuid.UUID
	err := s.DB.InTx(ctx, admin, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM schools WHERE district_id = $1 AND kind = 'k12' ORDER BY code`, district)
		if err != nil {
			return err
		}
		schools, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		return err
	})
	if err != nil || len(schools) == 0 {
		return err
	}
	phq9, gad7 := uuid.MustParse("00000000-0000-4000-8000-00000000f009"), uuid.MustParse("00000000-0000-4000-8000-00000000f007")
	now := time.Now()
	c, err := s.Screening.CreateCampaign(ctx, admin, district, screening.CampaignInput{Title: "2026 秋季学期心理健康测查",
		InstrumentIDs: []uuid.UUID{phq9, gad7}, SchoolIDs: schools, Grades: []string{"七年级", "八年级", "四年级", "五年级"},
		OpensAt: now.Add(-24 * time.Hour), ClosesAt: now.Add(14 * 24 * time.Hour), ConsentRule: "opt_out",
		StudentMessage: "同学你好！这份问卷帮助老师了解大家最近的感受，没有对错之分，请根据最近两周的真实情况作答。你的回答只有学校心理老师能看到。"})
	if err != nil {
		return err
	}
	counselor, err := s.leaderActor(ctx, s.name("counselor.s1"), district, schools[0])
	if err != nil {
		return err
	}
	counselor.Roles = []string{scope.Counselor}
	err = s.DB.InTx(ctx, counselor, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id FROM org_units WHERE school_id = $1 AND kind = 'homeroom' ORDER BY position, name LIMIT 1`, schools[0]).Scan(&firstHomeroom)
	})
	if err != nil {
		return err
	}
	sheet, err := s.Screening.IssueCodes(ctx, counselor, schools[0], c.ID, screening.CodesInput{HomeroomID: firstHomeroom})
	if err != nil {
		return err
	}
	answers := func(n, v int) map[string]int {
		m := map[string]int{}
		for i := 1; i <= n; i++ {
			m[fmt.Sprint(i)] = v
		}
		return m
	}
	for i, slip := range sheet.Items {
		if i == 3 {
			break
		}
		p := answers(9, i)
		if i == 2 {
			p["9"] = 2
		}
		if _, err := s.Screening.Submit(ctx, slip.Code, screening.SubmitInput{Answers: map[uuid.UUID]map[string]int{phq9: p, gad7: answers(7, i)}}); err != nil {
			return err
		}
	}
	return nil
}

// DemoInstitutions are the partner institutions of the demo district.
var DemoInstitutions = []struct {
	Name, Kind, Contact string
	Services            []string
	Direct              bool
}{
	{"市精神卫生中心", "hospital", "儿少心理门诊 0571-00000001（工作日 8:00-17:00）", []string{"儿童青少年心理门诊", "危机干预", "住院治疗"}, true},
	{"区人民医院心理科", "clinic", "门诊楼三楼 0571-00000002", []string{"心理咨询", "心理测评"}, true},
	{"全国心理援助热线", "hotline", "12356（24 小时）", []string{"电话心理援助"}, false},
}

// DemoLibrary is the demo district's resource library.
func DemoLibrary() []library.ItemInput {
	return []library.ItemInput{
		{Kind: "book", Title: "青少年情绪管理手册", Author: "示范区心理辅导中心", Publisher: "示范出版社", Topics: []string{"情绪", "压力"}, Audiences: []string{"student", "teacher"},
			Summary: "用简单的练习认识和调节情绪，适合初中和高中学生自读。"},
		{Kind: "book", Title: "家长如何陪伴青春期孩子", Author: "示范区心理辅导中心", Topics: []string{"亲子沟通", "青春期"}, Audiences: []string{"guardian"},
			Summary: "面向家长的亲子沟通指南。"},
		{Kind: "link", Title: "考前焦虑放松练习（音频）", URL: "https://example.org/relax", Topics: []string{"考试焦虑", "放松"}, Audiences: []string{"student"},
			Summary: "十分钟呼吸放松练习。"},
		{Kind: "link", Title: "班主任识别学生心理危机的信号", URL: "https://example.org/signals", Topics: []string{"危机识别"}, Audiences: []string{"teacher", "counselor"}},
	}
}

// OpeningHours are the demo counseling rooms' hours: school days 08:00–12:00 and 13:30–17:30.
func OpeningHours() []appointment.Window {
	var out []appointment.Window
	for d := 1; d <= 5; d++ {
		out = append(out, appointment.Window{Weekday: d, Start: "08:00", End: "12:00"}, appointment.Window{Weekday: d, Start: "13:30", End: "17:30"})
	}
	return out
}

// seedPrograms writes the current term, a published plan for every school and a few
// activities, so the compliance matrix has something to show. 示范区第一中学 records no
// lecture (the end-to-end test records two).
func (s *Seeder) seedPrograms(ctx context.Context, a scope.Actor, district uuid.UUID, schools []uuid.UUID) error {
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	term, err := s.Programs.CreateTerm(ctx, a, district, program.TermInput{Name: "本学期（示范）",
		StartsOn: now.AddDate(0, 0, -45).Format(time.DateOnly), EndsOn: now.AddDate(0, 0, 75).Format(time.DateOnly)})
	if err != nil {
		return err
	}
	p, err := s.Programs.CreatePlan(ctx, a, district, program.PlanInput{TermID: term.ID, Title: "心理健康教育工作计划（示范）", AllSchools: true,
		Indicators: []program.Indicator{
			{Code: "lectures", Name: "心理健康讲座不少于2次", Kind: "activity_count", ActivityType: "lecture", Target: 2},
			{Code: "groups", Name: "团体辅导不少于4次", Kind: "activity_count", ActivityType: "group_session", Target: 4},
			{Code: "training", Name: "教师心理健康培训不少于8小时", Kind: "hours", ActivityType: "staff_training", Target: 8},
			{Code: "room", Name: "心理辅导室每周开放不少于10小时", Kind: "hours", ActivityType: "room_hours", Target: 10},
			{Code: "liaisons", Name: "每个班级配备心理委员", Kind: "percentage", Metric: "liaison_coverage", Target: 100},
			{Code: "protocol", Name: "建立心理危机干预工作制度", Kind: "yes_no", Target: 1},
		}})
	if err != nil {
		return err
	}
	if _, err := s.Programs.Publish(ctx, a, district, p.ID, "学期初发布"); err != nil {
		return err
	}
	// The counseling room feeds a plan of its own: weekly opening hours and requests answered in time.
	room, err := s.Programs.CreatePlan(ctx, a, district, program.PlanInput{TermID: term.ID, Title: "心理辅导室服务（示范）", AllSchools: true,
		Indicators: []program.Indicator{
			{Code: "room_open", Name: "心理辅导室每周开放不少于20小时", Kind: program.RoomOpenHours, Target: 20},
			{Code: "room_answers", Name: "预约申请两个工作日内答复率不低于90%", Kind: program.RoomResponseRate, Target: 90},
		}})
	if err != nil {
		return err
	}
	if _, err := s.Programs.Publish(ctx, a, district, room.ID, "学期初发布"); err != nil {
		return err
	}
	day := func(offset int) string { return now.AddDate(0, 0, offset).Format(time.DateOnly) }
	hours := func(h float64) *float64 { return &h }
	for i := range plans {
		school := schools[i]
		counselor, err := s.schoolActor(ctx, s.name(fmt.Sprintf("counselor.s%d", i+1)), district, school, scope.Counselor)
		if err != nil {
			return err
		}
		acts := []program.ActivityInput{
			{Type: "staff_training", Title: "班主任心理健康教育培训", HeldOn: day(-20), Audience: "staff", AudienceSize: 60, Attendance: 55, Hours: hours(float64(4 * (i + 1)))},
			{Type: "room_hours", Title: "心理辅导室开放时间", HeldOn: day(-40), Audience: "students", AudienceSize: 0, Attendance: 0, Hours: hours(float64(8 + 2*i))},
			{Type: "group_session", Title: "人际交往团体辅导", HeldOn: day(-10), Audience: "students", AudienceSize: 12, Attendance: 11,
				Details: program.Details{Theme: "人际交往", Sessions: 6, Facilitators: []string{"心理辅导教师"}, ConfidentialityRule: "组内分享不外传；有伤害自己或他人的风险时例外，告知监护人与学校"}},
		}
		if i > 0 {
			acts = append(acts,
				program.ActivityInput{Type: "lecture", Title: "青春期心理健康讲座", HeldOn: day(-30), Audience: "students", AudienceSize: 400, Attendance: 390},
				program.ActivityInput{Type: "lecture", Title: "考试压力应对讲座", HeldOn: day(-5), Audience: "students", AudienceSize: 300, Attendance: 286},
				program.ActivityInput{Type: "parent_event", Title: "家长学校：如何与青春期孩子沟通", HeldOn: day(-15), Audience: "parents", AudienceSize: 200, Attendance: 150})
		}
		for _, in := range acts {
			in.TermID = term.ID
			if _, err := s.Programs.RecordActivity(ctx, counselor, school, in); err != nil {
				return err
			}
		}
		// A liaison training, and — except in 示范区第一中学, which the end-to-end test
		// lets submit — the school's term plan, submitted (the third school's accepted).
		liaison, err := s.schoolActor(ctx, s.name(fmt.Sprintf("liaison.s%d", i+1)), district, school, scope.PeerLiaison)
		if err != nil {
			return err
		}
		if _, err := s.Programs.RecordLiaisonEvent(ctx, counselor, school, program.LiaisonEventInput{Kind: "training", HeldOn: day(-12),
			Topic: "心理委员培训：倾听与识别", Hours: 2, AttendeeIDs: []uuid.UUID{liaison.UserID}, Notes: "讲解倾听技巧、常见情绪信号与求助流程"}); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		var answers []program.Answer
		for k, ind := range p.Indicators {
			answers = append(answers, program.Answer{IndicatorCode: ind.Code, PlannedDates: []string{day(10 + 5*k)}, OwnerIDs: []uuid.UUID{counselor.UserID}})
		}
		if _, err := s.Programs.SaveTermPlan(ctx, counselor, school, p.ID, program.TermPlanInput{Answers: answers,
			Note: "按区计划逐项落实，心理辅导教师牵头，班主任配合。"}, true); err != nil {
			return err
		}
		if i == 2 {
			if _, err := s.Programs.ReviewTermPlan(ctx, a, district, p.ID, school, "accept", ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// schoolActor is a school user of the seeded district, as the domain services see it.
func (s *Seeder) schoolActor(ctx context.Context, username string, district, school uuid.UUID, role string) (scope.Actor, error) {
	a, err := s.leaderActor(ctx, username, district, school)
	a.Roles = []string{role}
	return a, err
}

// seedSessions opens case files for about a third of each school's students and records
// one to three sessions each over the last five months: mostly scheduled and walk-in
// (large, published counts), a few by phone and letter (small counts, suppressed), so
// the dashboard shows trends and suppression markers.
func (s *Seeder) seedSessions(ctx context.Context, district uuid.UUID, schools []uuid.UUID, rng *rand.Rand) error {
	channels := []string{"scheduled", "scheduled", "scheduled", "walk_in", "walk_in", "walk_in", "online", "online", "phone", "letter"}
	categories := []string{"emotion", "learning", "learning", "interpersonal", "family"}
	now := time.Now()
	for i, school := range schools {
		counselor, err := s.schoolActor(ctx, s.name(fmt.Sprintf("counselor.s%d", i+1)), district, school, scope.Counselor)
		if err != nil {
			return err
		}
		var students []uuid.UUID
		err = s.DB.InTx(ctx, counselor, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT id FROM students WHERE school_id = $1 ORDER BY student_number`, school)
			if err != nil {
				return database.MapError(err)
			}
			students, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			return database.MapError(err)
		})
		if err != nil {
			return err
		}
		for j, student := range students {
			if j%3 != 0 {
				continue
			}
			cf, err := s.CaseFiles.Open(ctx, counselor, school, student)
			if err != nil {
				return err
			}
			for range 1 + rng.IntN(3) {
				at := now.Add(-time.Duration(1+rng.IntN(150*24)) * time.Hour)
				if _, err := s.CaseFiles.RecordSession(ctx, counselor, school, cf.ID, casefile.SessionInput{OccurredAt: at,
					Channel: channels[rng.IntN(len(channels))], Participants: []string{"student"}, InitiatedBy: "self",
					Categories: []string{categories[rng.IntN(len(categories))]}, DurationMinutes: 40, Summary: "示范数据：常规心理辅导。"}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DistrictID returns the id of the seeded district (for tests and tools).
func (s *Seeder) DistrictID(ctx context.Context) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT district_id FROM auth_login_lookup($1)`, s.name("district.admin")).Scan(&id)
	})
	return id, err
}

func (s *Seeder) leaderActor(ctx context.Context, username string, district, school uuid.UUID) (scope.Actor, error) {
	var id uuid.UUID
	err := s.DB.InTx(ctx, scope.Actor{}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT user_id FROM auth_login_lookup($1)`, username).Scan(&id)
	})
	return scope.Actor{UserID: id, Username: username, DistrictID: district, SchoolID: school, Kind: scope.School,
		Roles: []string{scope.SchoolLeader}}, err
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("子涵浩宇欣怡梓萱一诺雨轩宇航思远佳琪明轩嘉怡晨曦俊杰雅婷博文若曦天佑紫萱志强婉清家豪诗涵泽宇可欣文博")
)

func student(rng *rand.Rand, school, k int, grade, homeroom, kind string) roster.Row {
	name := string(surnames[rng.IntN(len(surnames))]) + string(given[rng.IntN(len(given))])
	if rng.IntN(2) == 0 {
		name += string(given[rng.IntN(len(given))])
	}
	gender := "male"
	if rng.IntN(2) == 0 {
		gender = "female"
	}
	baseYear := 2013
	switch {
	case kind == tenant.Vocational:
		baseYear = 2009
	case school%5 == 2:
		baseYear = 2015
	}
	birth := time.Date(baseYear+rng.IntN(3), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	phone := fmt.Sprintf("13%d%08d", rng.IntN(10), rng.IntN(100000000))
	return roster.Row{
		Line: k + 1, StudentNumber: fmt.Sprintf("2024%d%04d", school, k), Name: name, Gender: gender, BirthDate: birth,
		Grade: grade, Homeroom: homeroom, Status: "enrolled",
		Guardians: []roster.Guardian{{Name: string(surnames[rng.IntN(len(surnames))]) + "家长", Relation: "父母", Phone: phone}},
	}
}

// Logins lists the demo users.
func Logins() []Login {
	l := []Login{
		{"district.admin", scope.DistrictAdmin, "示范区"},
		{"district.supervisor", scope.DistrictSupervisor, "示范区"},
		{"researcher", scope.Researcher, "示范区"},
	}
	for i, p := range plans {
		for _, u := range []struct{ name, role string }{{"counselor", scope.Counselor}, {"leader", scope.SchoolLeader},
			{"teacher", scope.HomeroomTeacher}, {"liaison", scope.PeerLiaison}} {
			l = append(l, Login{fmt.Sprintf("%s.s%d", u.name, i+1), u.role, p.name})
		}
	}
	return l
}
