package instrument

// The built-in instruments, free to use, with Chinese and English item text.

var twoWeekOptions = []Option{
	{0, Text{"完全不会", "Not at all"}},
	{1, Text{"好几天", "Several days"}},
	{2, Text{"一半以上的天数", "More than half the days"}},
	{3, Text{"几乎每天", "Nearly every day"}},
}

var twoWeekStem = Text{"在过去两周里，你有多少时候受到以下问题困扰？", "Over the last 2 weeks, how often have you been bothered by the following problems?"}

// PHQ9 is the Patient Health Questionnaire-9 (depression). Item 9 — thoughts of being
// better off dead or of self-harm — answered 1 or more is a critical item.
func PHQ9() Definition {
	return Definition{
		Code: "phq9", Name: Text{"患者健康问卷（PHQ-9）", "Patient Health Questionnaire (PHQ-9)"}, Stem: twoWeekStem, Options: twoWeekOptions,
		Items: []Item{
			{Code: "1", Text: Text{"做事时提不起劲或没有兴趣", "Little interest or pleasure in doing things"}},
			{Code: "2", Text: Text{"感到心情低落、沮丧或绝望", "Feeling down, depressed, or hopeless"}},
			{Code: "3", Text: Text{"入睡困难、睡不安稳或睡眠过多", "Trouble falling or staying asleep, or sleeping too much"}},
			{Code: "4", Text: Text{"感觉疲倦或没有活力", "Feeling tired or having little energy"}},
			{Code: "5", Text: Text{"食欲不振或吃太多", "Poor appetite or overeating"}},
			{Code: "6", Text: Text{"觉得自己很糟，或觉得自己很失败，或让自己或家人失望", "Feeling bad about yourself, or that you are a failure or have let yourself or your family down"}},
			{Code: "7", Text: Text{"对事物专注有困难，例如阅读或看电视时", "Trouble concentrating on things, such as reading or watching television"}},
			{Code: "8", Text: Text{"动作或说话速度缓慢到别人已经察觉，或正好相反，烦躁或坐立不安、动来动去的情况比平常更多",
				"Moving or speaking so slowly that other people could have noticed, or the opposite: being so fidgety or restless that you have been moving around a lot more than usual"}},
			{Code: "9", Text: Text{"有不如死掉或用某种方式伤害自己的念头", "Thoughts that you would be better off dead, or of hurting yourself in some way"}},
		},
		Bands: []Band{
			{"minimal", 0, 4, Text{"无或极轻", "Minimal"}},
			{"mild", 5, 9, Text{"轻度", "Mild"}},
			{"moderate", 10, 14, Text{"中度", "Moderate"}},
			{"moderately_severe", 15, 19, Text{"中重度", "Moderately severe"}},
			{"severe", 20, 27, Text{"重度", "Severe"}},
		},
		Critical: []Critical{{Item: "9", MinValue: 1}},
	}
}

// GAD7 is the Generalized Anxiety Disorder-7 scale.
func GAD7() Definition {
	return Definition{
		Code: "gad7", Name: Text{"广泛性焦虑量表（GAD-7）", "Generalized Anxiety Disorder scale (GAD-7)"}, Stem: twoWeekStem, Options: twoWeekOptions,
		Items: []Item{
			{Code: "1", Text: Text{"感觉紧张、焦虑或急切", "Feeling nervous, anxious, or on edge"}},
			{Code: "2", Text: Text{"不能够停止或控制担忧", "Not being able to stop or control worrying"}},
			{Code: "3", Text: Text{"对各种各样的事情担忧过多", "Worrying too much about different things"}},
			{Code: "4", Text: Text{"很难放松下来", "Trouble relaxing"}},
			{Code: "5", Text: Text{"由于不安而无法静坐", "Being so restless that it is hard to sit still"}},
			{Code: "6", Text: Text{"变得容易烦恼或急躁", "Becoming easily annoyed or irritable"}},
			{Code: "7", Text: Text{"感到似乎将有可怕的事情发生而害怕", "Feeling afraid, as if something awful might happen"}},
		},
		Bands: []Band{
			{"minimal", 0, 4, Text{"无或极轻", "Minimal"}},
			{"mild", 5, 9, Text{"轻度", "Mild"}},
			{"moderate", 10, 14, Text{"中度", "Moderate"}},
			{"severe", 15, 21, Text{"重度", "Severe"}},
		},
	}
}

// Builtin lists the built-in instruments.
func Builtin() []Definition { return []Definition{PHQ9(), GAD7()} }
