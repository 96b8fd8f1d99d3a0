#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>

namespace callrec::flow {

// The contact as a flow sees it ($.ContactId, $.InitialContactId,
// $.Attributes.*, ...). For an agent's guide, contact_id is the contact the
// agent handles; related_contact_id, when set, is the contact the guide acts
// on ("Related" in UpdateContactAttributes, RelatedContactId in the Lambda
// event).
struct ContactData {
  std::string contact_id;
  std::string initial_contact_id;  // empty: the contact is the first of its chain
  std::string related_contact_id;
  std::string instance_id;
  std::string agent_id;
  std::map<std::string, std::string> attributes;
  std::string instance_arn;  // empty: built from instance_id
  std::string channel = "VOICE";
};

// $.InitialContactId: the initial contact, or the contact itself.
std::string InitialContactIdOf(const ContactData& contact);

// The flow data object references are resolved against: the contact's
// fields, $.Attributes, $.External (the last Lambda's answer) and $.Views
// (the last view's output).
boost::json::object FlowData(const ContactData& contact, const boost::json::object& external,
                             const boost::json::object& views);

// Amazon Connect's InvokeLambdaFunction event: {"Name": "ContactFlowEvent",
// "Details": {"ContactData": {...}, "Parameters": parameters}}.
boost::json::object LambdaEvent(const ContactData& contact, boost::json::object parameters);

}  // namespace callrec::flow
